// Where and on what each session was started, and when it was last used, for the account page's
// list of sessions (provider-rows.ts sessionsOf). The browser's user agent and its full address,
// as the audit trail keeps them (http/request-context.ts). A row goes with its session, in the
// statements that delete sessions (provider-rows.ts) or, for oidc-provider's own sign-out, in
// session-events.ts's transaction.
import type { Prisma } from '../db/database.ts';
import { currentRequest } from '../http/request-context.ts';

type Executor = Pick<Prisma, '$executeRaw'>;

/** "Last seen" moves at most this often: a session in use costs one write per five minutes, not one per request. */
export const LAST_SEEN_STEP_SECONDS = 300;
/** Sessions remembered as recently seen by this process, at most (then forgotten all at once). */
const REMEMBERED = 10_000;

/** The statement recording the device of a session just signed in to (again: a new sign-in in the same browser). */
export function recordDevice(prisma: Executor, sessionUid: string, accountId: string) {
  const request = currentRequest();
  const userAgent = request?.userAgent ?? null;
  const ip = request?.ip ?? null;
  return prisma.$executeRaw`
    INSERT INTO session_devices (session_uid, account_id, user_agent, ip)
    VALUES (${sessionUid}, ${accountId}, ${userAgent}, ${ip})
    ON CONFLICT (session_uid) DO UPDATE
       SET account_id = excluded.account_id, user_agent = excluded.user_agent, ip = excluded.ip, last_seen_at = now()`;
}

/**
 * `seen(uid)`: the session is in use now. Written when the stored time is older than
 * LAST_SEEN_STEP_SECONDS; asked at most that often per session by this process.
 */
export function createLastSeen(prisma: Prisma) {
  const asked = new Map<string, number>();
  return async (sessionUid: string): Promise<void> => {
    const last = asked.get(sessionUid);
    if (last !== undefined && Date.now() - last < LAST_SEEN_STEP_SECONDS * 1000) return;
    if (asked.size >= REMEMBERED) asked.clear();
    asked.set(sessionUid, Date.now());
    const ip = currentRequest()?.ip ?? null;
    await prisma.$executeRaw`
      UPDATE session_devices SET last_seen_at = now(), ip = coalesce(${ip}, ip)
       WHERE session_uid = ${sessionUid} AND last_seen_at < now() - ${LAST_SEEN_STEP_SECONDS}::int * interval '1 second'`;
  };
}
