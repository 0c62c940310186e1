// session.created and session.ended (src/webhooks/events.ts) for oidc-provider's sessions.
// `sid` is the session's `uid`: it stays the same while oidc-provider rotates the cookie's id.
//   - a sign-in: the resume request that applies a login step's result to the session (not the
//     consent step's, whose result only repeats that login);
//   - a sign-out: the confirmation of RP-initiated logout that destroys the session;
//   - a revocation (account removed, password reset, reclaimed by Google) and the expiry of a
//     session: one statement beside the deletion, in its transaction (sessionsEndedBy, which
//     revokeEverythingOf in account-revocation.ts and the cleanup in adapter.ts run).
// oidc-provider saves and destroys a session inside its own middleware, where none of our
// transactions reaches: the first two are written right after, in the same request.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Prisma } from '../db/database.ts';
import { Prisma as Sql } from '../generated/prisma/client.ts';
import type { Logger } from '../log.ts';
import { recordEvent, recordEventsFrom } from '../webhooks/events.ts';
import { userActor } from '../audit/trail.ts';
import type { AuditTrail } from '../audit/trail.ts';

export type SessionEndReason = 'logout' | 'revoked' | 'expired';

/** `provider`, announcing its sign-ins and sign-outs (and recording sign-outs in the audit trail). */
export function withSessionEvents(provider: Provider, prisma: Prisma, log: Logger, audit: AuditTrail): Provider {
  provider.use(announceSessions(prisma, log, audit));
  return provider;
}

function announceSessions(prisma: Prisma, log: Logger, audit: AuditTrail): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    const session = oidc?.session;
    if (!session?.accountId) return;
    const destroyed = (session as { destroyed?: boolean }).destroyed === true;
    const data = { sub: session.accountId, sid: session.uid, client_id: oidc.client?.clientId ?? null };
    let write;
    // The consent step's result repeats the login it follows (src/interactions/consent.ts merges).
    if (oidc.route === 'resume' && oidc.result?.login && !oidc.result.consent && !destroyed) {
      write = recordEvent(prisma, 'session.created', { ...data, amr: session.amr ?? [], auth_time: session.loginTs ?? null });
    } else if (oidc.route === 'end_session_confirm' && destroyed) {
      audit.record({ action: 'session.ended', target: session.uid, userId: session.accountId, clientId: data.client_id, actor: userActor(session.accountId), details: { reason: 'logout' } });
      write = recordEvent(prisma, 'session.ended', { ...data, reason: 'logout' satisfies SessionEndReason });
    } else return;
    // The person is signed in (or out) whatever happens here: a lost event is logged, never shown.
    await write.catch((error: unknown) => log.error({ err: error, sid: session.uid }, 'could not record a session event'));
  };
}

/** session.ended for every session `where` selects: put it just before the statement that deletes them. */
export function sessionsEndedBy(prisma: Prisma, reason: SessionEndReason, where: { accountId: string } | { expiredBefore: Date }) {
  const condition = 'accountId' in where ? Sql.sql`account_id = ${where.accountId}` : Sql.sql`expires_at < ${where.expiredBefore}`;
  return recordEventsFrom(
    prisma,
    'session.ended',
    Sql.sql`SELECT jsonb_build_object('sub', account_id, 'sid', uid, 'client_id', NULL, 'reason', ${reason}::text) AS data
              FROM oidc_payload WHERE model = 'Session' AND account_id IS NOT NULL AND ${condition}`,
  );
}
