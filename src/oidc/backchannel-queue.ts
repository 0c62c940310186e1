// backchannel_logouts as a work queue shared by every replica, like webhook_deliveries
// (src/webhooks/queue.ts): a logout is queued by the transaction that ends its session, for every
// client that took part and registered a back-channel logout URI; claiming one takes a lease
// (next_attempt_at pushed past the longest attempt) in the statement that counts the attempt, and
// skips rows another replica has locked. A replica that stops gives back what it has not sent.
// Times come from the database's clock.
import type { Prisma } from '../db/database.ts';
import { Prisma as Sql } from '../generated/prisma/client.ts';
import { backoffSeconds } from '../jobs/backoff.ts';

type Executor = Pick<Prisma, '$executeRaw'>;

/** Six hours between attempts at most, as for webhooks. */
const MAX_RETRY_DELAY = 6 * 3600;

export interface ClaimedLogout {
  readonly id: bigint;
  readonly clientId: string;
  readonly sub: string;
  readonly sid: string;
  /** Attempts so far, this one included. */
  readonly attempts: number;
}

export interface LogoutQueueSettings {
  readonly leaseSeconds: number;
  readonly retryDelay: number;
  readonly maxAttempts: number;
}

/**
 * The statement that queues a logout for each row of `rows` (a query with client_id, sub and
 * sid columns) whose client is enabled and has a back-channel logout URI. Put it in the
 * `$transaction([...])` that ends the sessions, before the statement that deletes them.
 */
export function queueLogoutsFrom(prisma: Executor, rows: Sql.Sql) {
  return prisma.$executeRaw`
    INSERT INTO backchannel_logouts (client_id, sub, sid)
    SELECT DISTINCT r.client_id, r.sub, r.sid
      FROM (${rows}) r
      JOIN clients c ON c.id = r.client_id
     WHERE c.disabled_at IS NULL AND coalesce(c.definition->>'backchannel_logout_uri', '') <> ''`;
}

/** The statement that queues one logout (oidc-provider's own sign-out, which knows its client). */
export function queueLogout(prisma: Executor, logout: { clientId: string; sub: string; sid: string }) {
  return prisma.$executeRaw`INSERT INTO backchannel_logouts (client_id, sub, sid) VALUES (${logout.clientId}, ${logout.sub}, ${logout.sid})`;
}

export function createLogoutQueue(prisma: Prisma, { leaseSeconds, retryDelay, maxAttempts }: LogoutQueueSettings) {
  return {
    async claimDue(limit: number): Promise<ClaimedLogout[]> {
      const rows = await prisma.$queryRaw<{ id: bigint; client_id: string; sub: string; sid: string; attempts: number }[]>`
        UPDATE backchannel_logouts
           SET attempts = attempts + 1, next_attempt_at = now() + ${leaseSeconds}::int * interval '1 second'
         WHERE id IN (SELECT id FROM backchannel_logouts
                       WHERE status = 'pending' AND next_attempt_at <= now()
                       ORDER BY next_attempt_at, id
                       LIMIT ${limit}::int
                       FOR UPDATE SKIP LOCKED)
        RETURNING id, client_id, sub, sid, attempts`;
      return rows.map((row) => ({ id: BigInt(row.id), clientId: row.client_id, sub: row.sub, sid: row.sid, attempts: Number(row.attempts) }));
    },

    /** Gives back logouts claimed but not sent (the worker is stopping), the claim not counted. */
    async release(logouts: readonly ClaimedLogout[]): Promise<void> {
      for (const logout of logouts) {
        await prisma.$executeRaw`
          UPDATE backchannel_logouts SET attempts = attempts - 1, next_attempt_at = now()
           WHERE id = ${logout.id} AND status = 'pending' AND attempts = ${logout.attempts}::int`;
      }
    },

    /** Only while this worker still holds it. */
    async markDelivered(logout: ClaimedLogout): Promise<void> {
      await prisma.$executeRaw`
        UPDATE backchannel_logouts SET status = 'delivered', delivered_at = now(), last_error = NULL
         WHERE id = ${logout.id} AND status = 'pending' AND attempts = ${logout.attempts}::int`;
    },

    /** Schedules the next attempt, or gives up after maxAttempts (or at once when `final`: the client is gone). */
    async markFailed(logout: ClaimedLogout, reason: string, { final = false } = {}): Promise<'retry' | 'failed'> {
      const last = final || logout.attempts >= maxAttempts;
      const delay = backoffSeconds(logout.attempts, retryDelay, MAX_RETRY_DELAY);
      await prisma.$executeRaw`
        UPDATE backchannel_logouts
           SET status = ${last ? 'failed' : 'pending'}, last_error = ${reason.slice(0, 500)},
               next_attempt_at = CASE WHEN ${last}::boolean THEN next_attempt_at ELSE now() + ${delay}::int * interval '1 second' END
         WHERE id = ${logout.id} AND status = 'pending' AND attempts = ${logout.attempts}::int`;
      return last ? 'failed' : 'retry';
    },

    /** Forgets logouts older than `days` that are no longer pending; returns how many. */
    async deleteFinished(days: number): Promise<number> {
      return prisma.$executeRaw`
        DELETE FROM backchannel_logouts WHERE status <> 'pending' AND created_at < now() - ${days}::int * interval '1 day'`;
    },
  };
}

export type LogoutQueue = ReturnType<typeof createLogoutQueue>;
