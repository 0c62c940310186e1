// Work a request causes but its answer must not wait for, nor reveal: it starts once the
// response has been sent (or the connection dropped), and a failure is logged, never shown.
// A password-reset request answers before looking the address up, so that how long the answer
// takes says nothing about whether an account exists.
import { finished } from 'node:stream';
import type Koa from 'koa';
import type { Logger } from '../log.ts';

export interface AfterResponse {
  /** Runs `task` once `ctx`'s response is out. */
  run(ctx: Koa.Context, what: string, task: () => Promise<void>): void;
  /** Resolves when every task scheduled so far has finished (shutdown, tests). */
  settled(): Promise<void>;
}

export function createAfterResponse(log: Logger): AfterResponse {
  const pending = new Set<Promise<void>>();
  return {
    run(ctx, what, task) {
      // Counted from now, not from when it starts, so that settled() cannot miss it.
      const done = new Promise<void>((resolve) => {
        finished(ctx.res, () => {
          task()
            .catch((error: unknown) => log.error({ err: error, requestId: ctx.state.requestId }, `${what} failed`))
            .finally(resolve);
        });
      });
      pending.add(done);
      void done.then(() => pending.delete(done));
    },
    async settled() {
      while (pending.size) await Promise.all(pending);
    },
  };
}
