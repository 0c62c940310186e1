// Ends everything a person is signed in with: their sessions on every browser, and every grant,
// refresh token, access token and unused code issued on their behalf (after a password reset).
import type { Prisma } from '../db/database.ts';

const ACCOUNT_MODELS = ['Session', 'Grant', 'RefreshToken', 'AccessToken', 'AuthorizationCode'];

export async function revokeEverythingOf(prisma: Prisma, accountId: string): Promise<number> {
  const { count } = await prisma.oidcPayload.deleteMany({ where: { accountId, model: { in: ACCOUNT_MODELS } } });
  return count;
}
