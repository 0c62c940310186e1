// session.created and session.ended (src/webhooks/events.ts) for oidc-provider's sessions, their
// devices (session-devices.ts) and the back-channel logouts of oidc-provider's own sign-out.
// `sid` is the session's `uid`: it stays the same while oidc-provider rotates the cookie's id.
//   - a sign-in: the resume request that applies a login step's result to the session (not the
//     consent step's, whose result only repeats that login): session.created and the device;
//   - a request that carries the session (a new authorization request): the device's last seen;
//   - a sign-out: the confirmation of RP-initiated logout. oidc-provider destroys the session
//     inside its own middleware, where none of our transactions reaches, but that destroy is held
//     until the answer (db/request-memo.ts): right after, one transaction queues the logouts it
//     asked for (backchannel-logout.ts), records session.ended and deletes the session and its
//     device, so the held destroy finds nothing left. If that transaction fails, the request
//     fails and drops what it held: the session stays, nothing is announced.
//   - a revocation and the expiry of a session: provider-rows.ts endedSessions, in the
//     transaction that deletes them.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Prisma } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { recordEvent } from '../webhooks/events.ts';
import { userActor } from '../audit/trail.ts';
import type { AuditTrail } from '../audit/trail.ts';
import { deletedSession } from './provider-rows.ts';
import type { SessionEndReason } from './provider-rows.ts';
import { takePendingLogouts, withQueuedBackchannelLogout } from './backchannel-logout.ts';
import { queueLogout } from './backchannel-queue.ts';
import { createLastSeen, recordDevice } from './session-devices.ts';

export type { SessionEndReason };

/**
 * `provider`, announcing its sign-ins and sign-outs (and recording sign-outs in the audit trail),
 * remembering sessions' devices, and queueing the back-channel logouts of its sign-outs.
 */
export function withSessionEvents(provider: Provider, prisma: Prisma, log: Logger, audit: AuditTrail): Provider {
  withQueuedBackchannelLogout(provider);
  provider.use(announceSessions(prisma, log, audit));
  return provider;
}

function announceSessions(prisma: Prisma, log: Logger, audit: AuditTrail): Koa.Middleware {
  const seen = createLastSeen(prisma);
  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    if (oidc?.route === 'end_session_confirm') return signedOut(ctx, prisma, audit);
    const session = oidc?.session;
    if (!session?.accountId || (session as { destroyed?: boolean }).destroyed) return;
    const data = { sub: session.accountId, sid: session.uid, client_id: oidc.client?.clientId ?? null };
    // The consent step's result repeats the login it follows (src/interactions/consent.ts merges).
    const signedIn = oidc.route === 'resume' && oidc.result?.login && !oidc.result.consent;
    const write = signedIn
      ? prisma.$transaction([
          recordEvent(prisma, 'session.created', { ...data, amr: session.amr ?? [], auth_time: session.loginTs ?? null }),
          recordDevice(prisma, session.uid, session.accountId),
        ])
      : seen(session.uid);
    // The person is signed in whatever happens here: a lost event is logged, never shown.
    await write.catch((error: unknown) => log.error({ err: error, sid: session.uid }, 'could not record a session event'));
  };
}

async function signedOut(ctx: Koa.Context, prisma: Prisma, audit: AuditTrail): Promise<void> {
  const { oidc } = ctx as unknown as KoaContextWithOIDC;
  const session = oidc.session;
  const logouts = takePendingLogouts(ctx).map((logout) => queueLogout(prisma, logout));
  const accountId = session?.accountId;
  if (!session || !accountId || !(session as { destroyed?: boolean }).destroyed) {
    // Signed out of one app only: the session stays, that app is told.
    if (logouts.length) await prisma.$transaction(logouts);
    return;
  }
  const clientId = oidc.client?.clientId ?? null;
  await prisma.$transaction([
    ...logouts,
    recordEvent(prisma, 'session.ended', { sub: accountId, sid: session.uid, client_id: clientId, reason: 'logout' satisfies SessionEndReason }),
    ...deletedSession(prisma, session.uid),
  ]);
  audit.record({ action: 'session.ended', target: session.uid, userId: accountId, clientId, actor: userActor(accountId), details: { reason: 'logout' } });
}
