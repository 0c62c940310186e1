// "Cancel": the relying app gets access_denied.
import type Koa from 'koa';
import type { InteractionDeps } from './interaction.ts';
import { finishInteraction } from './interaction.ts';

export function submitAbort({ csrf }: InteractionDeps) {
  return async (ctx: Koa.Context) => {
    csrf.verify(ctx, (ctx.request.body as Record<string, unknown>).csrf);
    await finishInteraction(ctx, { error: 'access_denied', error_description: 'End-User aborted the sign-in' });
  };
}
