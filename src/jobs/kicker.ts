// The loop behind the e-mail and webhook workers. `kick()` runs a pass now, or once more right
// after the pass under way (kicks never pile up: work queued during a pass is picked up by the
// next); a timer kicks every `intervalMs` for work that fell due meanwhile or that another
// replica queued. `stop()` waits for the pass under way.
export interface Kicker {
  kick(): void;
  start(): void;
  stop(): Promise<void>;
}

export function createKicker(pass: (running: () => boolean) => Promise<unknown>, intervalMs: number, onError: (error: unknown) => void): Kicker {
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let kickedAgain = false;
  const isRunning = () => running;

  const kick = () => {
    if (!running) return;
    if (current) {
      kickedAgain = true;
      return;
    }
    current = (async () => {
      do {
        kickedAgain = false;
        await pass(isRunning).catch(onError);
      } while (kickedAgain && running);
    })().finally(() => {
      current = undefined;
    });
  };

  return {
    kick,
    start() {
      if (running) return;
      running = true;
      timer = setInterval(kick, intervalMs);
      timer.unref();
      kick();
    },
    async stop() {
      running = false;
      clearInterval(timer);
      await current;
    },
  };
}
