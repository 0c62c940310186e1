// The statements behind provider-rows.ts, for transactions: which Session rows a selection names,
// and what ending them, revoking an app or everything of an account deletes and queues. Every
// builder returns Prisma's lazy statements, to run in a `$transaction([...])` in order: each one
// reads the sessions the last one deletes. They read the payloads oidc-provider writes (see
// provider-rows.ts for their shape).
import type { Prisma } from '../db/database.ts';
import { Prisma as Sql } from '../generated/prisma/client.ts';
import { recordEventsFrom } from '../webhooks/events.ts';
import { queueLogoutsFrom } from './backchannel-queue.ts';

export type SessionEndReason = 'logout' | 'revoked' | 'expired';

type Executor = Pick<Prisma, '$executeRaw'>;

/** Which sessions end: an account's (all, one, or all but one), or every one past its expiry. */
export type SessionSelection = { accountId: string; only?: string; except?: string } | { expiredBefore: Date };

const ACCOUNT_MODELS = ['Session', 'Grant', 'RefreshToken', 'AccessToken', 'AuthorizationCode'];
const CLIENT_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'ClientCredentials', 'Grant'];
// What a grant's end takes with it. Not an interaction that names the grant: a sign-in in progress
// (the one that asked for a password reset) goes on without it (keepSignInGoing).
const GRANT_TOKEN_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode'];

/** SQL: the Session rows (as `s`) a selection names. */
export function sessionCondition(selection: SessionSelection): Sql.Sql {
  if ('expiredBefore' in selection) return Sql.sql`s.model = 'Session' AND s.expires_at < ${selection.expiredBefore}`;
  const only = selection.only === undefined ? Sql.empty : Sql.sql` AND s.uid = ${selection.only}`;
  const except = selection.except === undefined ? Sql.empty : Sql.sql` AND s.uid IS DISTINCT FROM ${selection.except}`;
  return Sql.sql`s.model = 'Session' AND s.account_id = ${selection.accountId}${only}${except}`;
}

/** SQL: one row (client_id, sub, sid, grant_id, persists_logout) per app signed in through the sessions `where` selects. */
const authorizationsOf = (where: Sql.Sql) => Sql.sql`
  SELECT a.key AS client_id, s.account_id AS sub, a.value->>'sid' AS sid, a.value->>'grantId' AS grant_id,
         coalesce(a.value->>'persistsLogout', 'false') = 'true' AS persists_logout
    FROM oidc_payload s
   CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(s.payload->'authorizations') = 'object' THEN s.payload->'authorizations' ELSE '{}'::jsonb END) a
   WHERE ${where} AND s.account_id IS NOT NULL AND jsonb_typeof(a.value) = 'object'`;

/** session.ended for every Session row (as `s`) `where` selects: put it just before the statement that deletes them. */
function sessionsEndedBy(prisma: Executor, reason: SessionEndReason, where: Sql.Sql) {
  return recordEventsFrom(
    prisma,
    'session.ended',
    Sql.sql`SELECT jsonb_build_object('sub', s.account_id, 'sid', s.uid, 'client_id', NULL, 'reason', ${reason}::text) AS data
              FROM oidc_payload s WHERE ${where} AND s.account_id IS NOT NULL`,
  );
}

/**
 * The statements that end the sessions `selection` names, in order, for a `$transaction([...])`:
 * every one reads the sessions the last one deletes. An account's sessions also take with them
 * the grants (and their tokens) that oidc-provider's own sign-out would revoke (not persistsLogout);
 * expired ones leave grants to their own expiry, as oidc-provider does.
 */
export function endedSessions(prisma: Executor, reason: SessionEndReason, selection: SessionSelection) {
  const where = sessionCondition(selection);
  const grants = Sql.sql`SELECT grant_id FROM (${authorizationsOf(where)}) g WHERE NOT persists_logout AND grant_id IS NOT NULL`;
  return [
    queueLogoutsFrom(prisma, Sql.sql`SELECT client_id, sub, sid FROM (${authorizationsOf(where)}) l WHERE sid IS NOT NULL`),
    sessionsEndedBy(prisma, reason, where),
    ...('accountId' in selection
      ? [prisma.$executeRaw`DELETE FROM oidc_payload WHERE (model IN (${Sql.join(GRANT_TOKEN_MODELS)}) AND grant_id IN (${grants})) OR (model = 'Grant' AND id IN (${grants}))`]
      : []),
    prisma.$executeRaw`DELETE FROM session_devices WHERE session_uid IN (SELECT s.uid FROM oidc_payload s WHERE ${where})`,
    ...('expiredBefore' in selection ? [forgottenDevices(prisma)] : []),
    prisma.$executeRaw`DELETE FROM oidc_payload s WHERE ${where}`,
  ];
}

// A device recorded by a sign-in whose session was then never written (its request failed).
const forgottenDevices = (prisma: Executor) => prisma.$executeRaw`
  DELETE FROM session_devices d
   WHERE d.last_seen_at < now() - interval '1 hour'
     AND NOT EXISTS (SELECT 1 FROM oidc_payload s WHERE s.model = 'Session' AND s.uid = d.session_uid)`;

/**
 * The statements deleting one session and its device, for oidc-provider's own sign-out
 * (session-events.ts), which queues its back-channel logouts itself: a destroy it holds until
 * the answer then finds nothing left to delete.
 */
export function deletedSession(prisma: Executor, sessionUid: string) {
  return [
    prisma.$executeRaw`DELETE FROM session_devices WHERE session_uid = ${sessionUid}`,
    prisma.$executeRaw`DELETE FROM oidc_payload WHERE model = 'Session' AND uid = ${sessionUid}`,
  ];
}

/**
 * Ends everything a person is signed in with: their sessions on every browser (each app told by
 * back-channel logout) and every grant, refresh token, access token and unused code issued on
 * their behalf. Statements for a `$transaction`, beside other changes to the account.
 */
export function revokeEverythingOf(prisma: Executor, accountId: string) {
  return [
    ...endedSessions(prisma, 'revoked', { accountId }),
    prisma.$executeRaw`DELETE FROM oidc_payload WHERE account_id = ${accountId} AND model IN (${Sql.join(ACCOUNT_MODELS)})`,
  ];
}

/** Statements ending what `accountId` allowed `clientIds`: their grants and every token of those grants. */
export function revokedApps(prisma: Executor, accountId: string, clientIds: string[]) {
  if (clientIds.length === 0) return [];
  const grants = Sql.sql`SELECT id FROM oidc_payload WHERE model = 'Grant' AND account_id = ${accountId} AND payload->>'clientId' IN (${Sql.join(clientIds)})`;
  return [
    prisma.$executeRaw`DELETE FROM oidc_payload WHERE grant_id IN (${grants})`,
    prisma.$executeRaw`DELETE FROM oidc_payload WHERE model = 'Grant' AND account_id = ${accountId} AND payload->>'clientId' IN (${Sql.join(clientIds)})`,
  ];
}

/** The statement removing every token, code and grant issued to a client (the client is being removed). */
export function revokedClient(prisma: Executor, clientId: string) {
  return prisma.$executeRaw`DELETE FROM oidc_payload WHERE model IN (${Sql.join(CLIENT_MODELS)}) AND payload->>'clientId' = ${clientId}`;
}
