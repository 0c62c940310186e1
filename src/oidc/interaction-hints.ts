// Proposes the address a person just proved (by following a confirmation or reset link) to the
// sign-in that sent them to their mailbox: its login step shows the interaction's login_hint
// (src/interactions/login.ts). The address stays on the server, in the interaction, never in
// a URL; only a sign-in still waiting at its login step is touched.
import type { Prisma } from '../db/database.ts';

interface InteractionPayload {
  prompt?: { name?: string };
  params?: Record<string, unknown>;
}

export async function proposeAddress(prisma: Prisma, interactionUid: string, email: string): Promise<void> {
  const where = { model_id: { model: 'Interaction', id: interactionUid } };
  const row = await prisma.oidcPayload.findUnique({ where });
  const payload = row?.payload as InteractionPayload | null | undefined;
  if (!payload?.params || payload.prompt?.name !== 'login') return;
  await prisma.oidcPayload.update({ where, data: { payload: { ...payload, params: { ...payload.params, login_hint: email } } as object } });
}
