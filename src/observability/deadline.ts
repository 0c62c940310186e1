// A database that stops answering without closing its connections makes queries hang until a
// timeout far longer than a load balancer or Prometheus waits: /readyz and /metrics race their
// queries against this shorter deadline and answer in time either way.

export class DeadlineExceeded extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/** `work`'s result, or a DeadlineExceeded rejection after `ms` (`work` itself keeps running). */
export function settleWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
