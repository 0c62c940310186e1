// Caps how many expensive operations (argon2) run at once, with a bounded queue behind them so
// that a burst is answered "busy" instead of growing memory without end.
export class BusyError extends Error {
  constructor() {
    super('too many operations waiting');
    this.name = 'BusyError';
  }
}

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(concurrency: number, maxQueued = concurrency * 64): Limiter {
  let running = 0;
  const waiting: (() => void)[] = [];

  const release = () => {
    running--;
    waiting.shift()?.();
  };

  return async (task) => {
    if (running >= concurrency) {
      if (waiting.length >= maxQueued) throw new BusyError();
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
