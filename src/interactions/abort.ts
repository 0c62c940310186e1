// "Cancel": the relying app gets access_denied.
import { finishInteraction } from './interaction.ts';
import type { StepContext } from './guards.ts';

export function submitAbort() {
  return async (ctx: StepContext) => {
    await finishInteraction(ctx, { error: 'access_denied', error_description: 'End-User aborted the sign-in' });
  };
}
