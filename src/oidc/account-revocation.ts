// Ends everything a person is signed in with: their sessions on every browser, and every grant,
// refresh token, access token and unused code issued on their behalf (after a password reset).
import type { Prisma } from '../db/database.ts';
import { sessionsEndedBy } from './session-events.ts';

const ACCOUNT_MODELS = ['Session', 'Grant', 'RefreshToken', 'AccessToken', 'AuthorizationCode'];

/**
 * The statements that do it, in order: a session.ended event (reason "revoked") for each session,
 * then the deletion. Run them in a `$transaction`, beside other changes to the account.
 */
export function revokeEverythingOf(prisma: Prisma, accountId: string) {
  return [
    sessionsEndedBy(prisma, 'revoked', { accountId }),
    prisma.oidcPayload.deleteMany({ where: { accountId, model: { in: ACCOUNT_MODELS } } }),
  ] as const;
}

interface InteractionPayload {
  session?: { accountId?: string };
  prompt?: { name?: string };
  grantId?: string;
}

/**
 * Lets the sign-in that asked for a reset go on after revokeEverythingOf ended its session:
 * oidc-provider refuses an interaction whose session is gone ("session not found"), so the
 * interaction forgets that session and its grant, and its login step asks for the new password.
 * Only this account's sign-in still at its login step is kept; any other is left to expire.
 */
export async function keepSignInGoing(prisma: Prisma, interactionUid: string, accountId: string): Promise<boolean> {
  const where = { model_id: { model: 'Interaction', id: interactionUid } };
  const row = await prisma.oidcPayload.findUnique({ where });
  const payload = row?.payload as InteractionPayload | null | undefined;
  if (!payload || payload.session?.accountId !== accountId || payload.prompt?.name !== 'login') return false;
  const { session: _ended, grantId: _revoked, ...rest } = payload;
  await prisma.oidcPayload.update({ where, data: { payload: rest as object, grantId: null } });
  return true;
}
