// The one way into oidc-provider's rows (table oidc_payload) from outside the provider: the
// account page's list of sessions, signing a browser out, revoking an app or everything an
// account holds, and the hints a confirmation link leaves in a sign-in. This file owns the shape
// of their payloads (lib/models/session.js: `uid`, `loginTs`, `amr`, `accountId` and
// `authorizations[clientId] = { sid, grantId, persistsLogout }`; a grant's `clientId`).
//
// A request may hold oidc-provider's writes until its answer (db/request-memo.ts): every read or
// revocation here makes them first (settleDeferred), so it never misses a row the request just
// saved nor lets a held save bring back a row it deleted, and forgets what the request read.
// Ending sessions is one transaction (endedSessions, in provider-rows-sql.ts with the other
// statements for transactions): the back-channel logout of every client that took part,
// session.ended, the session's device, the grants that do not outlive a sign-out (as
// oidc-provider's own logout revokes them), and the sessions themselves.
import type { Prisma } from '../db/database.ts';
import type { Prisma as Sql } from '../generated/prisma/client.ts';
import { forget, settleDeferred } from '../db/request-memo.ts';
import { endedSessions, revokedApps } from './provider-rows-sql.ts';
import type { SessionEndReason } from './provider-rows-sql.ts';

export { deletedSession, endedSessions, revokedApps, revokedClient, revokeEverythingOf, sessionCondition } from './provider-rows-sql.ts';
export type { SessionEndReason, SessionSelection } from './provider-rows-sql.ts';

export interface SessionDeviceView {
  userAgent: string | null;
  ip: string | null;
  lastSeenAt: Date;
}

export interface AccountSession {
  /** The session's stable id (oidc-provider rotates the cookie's id, never this). */
  uid: string;
  loginTs: Date;
  expiresAt: Date;
  amr: string[];
  /** Apps signed in through this session. */
  clientIds: string[];
  device: SessionDeviceView | null;
}

/** Makes what this request holds, before a change here; forgets what it read, after. */
async function outsideTheProvider<T>(work: () => Promise<T>): Promise<T> {
  await settleDeferred();
  try {
    return await work();
  } finally {
    forget('oidc:*');
  }
}

export function createProviderRows({ prisma }: { prisma: Prisma }) {
  return {
    /** The account's live sessions, most recent sign-in first, with the device each started on. */
    async sessionsOf(accountId: string): Promise<AccountSession[]> {
      await settleDeferred();
      const rows = await prisma.$queryRaw<
        { uid: string; login_ts: number | null; expires_at: Date; amr: unknown; client_ids: string[]; user_agent: string | null; ip: string | null; last_seen_at: Date | null }[]
      >`SELECT s.uid, (s.payload->>'loginTs')::float8 AS login_ts, s.expires_at, s.payload->'amr' AS amr,
               coalesce(ARRAY(SELECT jsonb_object_keys(CASE WHEN jsonb_typeof(s.payload->'authorizations') = 'object' THEN s.payload->'authorizations' ELSE '{}'::jsonb END)), '{}') AS client_ids,
               d.user_agent, d.ip, d.last_seen_at
          FROM oidc_payload s LEFT JOIN session_devices d ON d.session_uid = s.uid
         WHERE s.model = 'Session' AND s.account_id = ${accountId} AND s.uid IS NOT NULL AND s.expires_at > now()
         ORDER BY login_ts DESC NULLS LAST, s.uid`;
      return rows.map((row) => ({
        uid: row.uid,
        loginTs: new Date((row.login_ts ?? 0) * 1000),
        expiresAt: row.expires_at,
        amr: Array.isArray(row.amr) ? row.amr.filter((value): value is string => typeof value === 'string') : [],
        clientIds: [...row.client_ids].sort(),
        device: row.last_seen_at ? { userAgent: row.user_agent, ip: row.ip, lastSeenAt: row.last_seen_at } : null,
      }));
    },

    /** The uid of the account's live session in which `clientId` was given an ID token carrying `sid`. */
    async findSession(accountId: string, { clientId, sid }: { clientId: string; sid: string }): Promise<string | null> {
      await settleDeferred();
      const rows = await prisma.$queryRaw<{ uid: string }[]>`
        SELECT s.uid FROM oidc_payload s
         WHERE s.model = 'Session' AND s.account_id = ${accountId} AND s.expires_at > now()
           AND s.payload->'authorizations'->${clientId}->>'sid' = ${sid}
         LIMIT 1`;
      return rows[0]?.uid ?? null;
    },

    /**
     * Ends the account's sessions (`only` one, or all `except` one), in one transaction; with
     * `revokeRefreshTokens`, its refresh tokens too ("sign out everywhere"). Returns how many ended.
     */
    async endSessions(accountId: string, { only, except, reason, revokeRefreshTokens = false }: { only?: string; except?: string; reason: SessionEndReason; revokeRefreshTokens?: boolean }): Promise<number> {
      return outsideTheProvider(async () => {
        const statements = endedSessions(prisma, reason, { accountId, only, except });
        const refresh = revokeRefreshTokens ? [prisma.$executeRaw`DELETE FROM oidc_payload WHERE model = 'RefreshToken' AND account_id = ${accountId}`] : [];
        const counts = await prisma.$transaction([...statements, ...refresh]);
        return counts[statements.length - 1] as number;
      });
    },

    /** Revokes every refresh token of the account. Returns how many. */
    async revokeRefreshTokens(accountId: string): Promise<number> {
      return outsideTheProvider(() => prisma.$executeRaw`DELETE FROM oidc_payload WHERE model = 'RefreshToken' AND account_id = ${accountId}`);
    },

    /** Ends what the account allowed one app: its grants and their tokens (the next sign-in asks again if the consent went too). */
    async revokeApp(accountId: string, clientId: string): Promise<void> {
      await outsideTheProvider(() => prisma.$transaction(revokedApps(prisma, accountId, [clientId])));
    },

    /** Runs `statements` (built with this module's functions) in one transaction, after what this request holds. */
    async transaction<T extends Sql.PrismaPromise<unknown>[]>(statements: [...T]) {
      return outsideTheProvider(() => prisma.$transaction(statements));
    },

    keepSignInGoing: (interactionUid: string, accountId: string) => keepSignInGoing(prisma, interactionUid, accountId),
    proposeAddress: (interactionUid: string, email: string) => proposeAddress(prisma, interactionUid, email),
  };
}

export type ProviderRows = ReturnType<typeof createProviderRows>;

interface InteractionPayload {
  session?: { accountId?: string };
  prompt?: { name?: string };
  params?: Record<string, unknown>;
  grantId?: string;
}

/** Changes a sign-in still waiting at its login step (null: leave it); false when there is none. */
async function changeWaitingSignIn(prisma: Prisma, interactionUid: string, change: (payload: InteractionPayload) => InteractionPayload | null): Promise<boolean> {
  return outsideTheProvider(async () => {
    const where = { model_id: { model: 'Interaction', id: interactionUid } };
    const row = await prisma.oidcPayload.findUnique({ where });
    const payload = row?.payload as InteractionPayload | null | undefined;
    const changed = payload && payload.prompt?.name === 'login' ? change(payload) : null;
    if (!changed) return false;
    await prisma.oidcPayload.update({ where, data: { payload: changed as object, grantId: changed.grantId ?? null } });
    return true;
  });
}

/**
 * Lets the sign-in that asked for a reset go on after revokeEverythingOf ended its session:
 * oidc-provider refuses an interaction whose session is gone ("session not found"), so the
 * interaction forgets that session and its grant, and its login step asks for the new password.
 * Only this account's sign-in still at its login step is kept; any other is left to expire.
 */
export function keepSignInGoing(prisma: Prisma, interactionUid: string, accountId: string): Promise<boolean> {
  return changeWaitingSignIn(prisma, interactionUid, (payload) => {
    if (payload.session?.accountId !== accountId) return null;
    const { session: _ended, grantId: _revoked, ...rest } = payload;
    return rest;
  });
}

/**
 * Proposes the address a person just proved (by following a confirmation or reset link) to the
 * sign-in that sent them to their mailbox: its login step shows the interaction's login_hint
 * (src/interactions/login.ts). The address stays on the server, in the interaction, never in a
 * URL; only a sign-in still waiting at its login step is touched.
 */
export async function proposeAddress(prisma: Prisma, interactionUid: string, email: string): Promise<void> {
  await changeWaitingSignIn(prisma, interactionUid, (payload) => (payload.params ? { ...payload, params: { ...payload.params, login_hint: email } } : null));
}
