// webhook_deliveries as a work queue shared by every replica, like mail_messages
// (src/mail/queue.ts): claiming a delivery takes a lease (next_attempt_at pushed past the
// longest attempt) in the same statement that counts the attempt, and skips rows another replica
// has locked, so two workers never hold the same delivery. A replica that stops gives back what
// it has not sent; one that dies holds its deliveries until the lease runs out, then any replica
// takes them again. Times come from the database's clock.
// A claim takes at most a few deliveries per endpoint, and none for endpoints this worker is
// already busy with, so a slow endpoint holds a few slots, never the whole worker.
import type { Prisma } from '../db/database.ts';
import { backoffSeconds } from '../jobs/backoff.ts';
import { Prisma as Sql } from '../generated/prisma/client.ts';
import { receives } from './events.ts';

export interface ClaimedDelivery {
  readonly id: bigint;
  readonly eventId: string;
  readonly endpointId: string;
  readonly url: string;
  /** As stored: sealed when SECRETS_ENCRYPTION_KEY is set. */
  readonly secret: string;
  /** The payload exactly as it is signed and sent. */
  readonly body: string;
  /** Attempts so far, this one included. */
  readonly attempts: number;
}

export interface DeliveryQueueSettings {
  /** How long a claimed delivery stays out of other workers' reach. */
  readonly leaseSeconds: number;
  readonly retryDelay: number;
  readonly maxAttempts: number;
}

export interface DeliveryRecord {
  id: string;
  eventId: string;
  type: string;
  endpointId: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** Six hours: with the default settings the attempts still span more than a day. */
export const MAX_RETRY_DELAY = 6 * 3600;

/** Exponential back-off after the n-th failed attempt, capped at six hours. */
export function retryDelaySeconds(attempts: number, retryDelay: number): number {
  return backoffSeconds(attempts, retryDelay, MAX_RETRY_DELAY);
}

/** How long a delivery is retried before it is given up: the sum of the delays between attempts. */
export function retrySpanSeconds(maxAttempts: number, retryDelay: number): number {
  let span = 0;
  for (let attempt = 1; attempt < maxAttempts; attempt++) span += retryDelaySeconds(attempt, retryDelay);
  return span;
}

export function createDeliveryQueue(prisma: Prisma, { leaseSeconds, retryDelay, maxAttempts }: DeliveryQueueSettings) {
  return {
    /** Up to `limit` due deliveries, at most `perEndpoint` each, none to the endpoints in `busy`. */
    async claimDue(limit: number, { perEndpoint, busy }: { perEndpoint: number; busy: readonly string[] }): Promise<ClaimedDelivery[]> {
      const rows = await prisma.$queryRaw<{ id: bigint; event_id: string; endpoint_id: string; attempts: number; url: string; secret: string; body: string }[]>`
        WITH claimed AS (
          UPDATE webhook_deliveries
             SET attempts = attempts + 1,
                 next_attempt_at = now() + ${leaseSeconds}::int * interval '1 second'
           WHERE id IN (SELECT id FROM webhook_deliveries
                         WHERE status = 'pending' AND next_attempt_at <= now()
                           AND id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank
                                                        FROM webhook_deliveries
                                                       WHERE status = 'pending' AND next_attempt_at <= now()
                                                         AND endpoint_id NOT IN (SELECT jsonb_array_elements_text(${JSON.stringify(busy)}::jsonb))) due
                                       WHERE rank <= ${perEndpoint}::int)
                         ORDER BY next_attempt_at
                         LIMIT ${limit}::int
                         FOR UPDATE SKIP LOCKED)
          RETURNING id, event_id, endpoint_id, attempts
        )
        SELECT claimed.id, claimed.event_id, claimed.endpoint_id, claimed.attempts, endpoint.url, endpoint.secret, event.payload::text AS body
          FROM claimed
          JOIN webhook_events event ON event.id = claimed.event_id
          JOIN webhook_endpoints endpoint ON endpoint.id = claimed.endpoint_id`;
      return rows.map((row) => ({
        id: BigInt(row.id),
        eventId: row.event_id,
        endpointId: row.endpoint_id,
        url: row.url,
        secret: row.secret,
        body: row.body,
        attempts: Number(row.attempts),
      }));
    },

    /**
     * Gives back deliveries claimed but not sent (the worker is stopping): due again at once for
     * any replica, and the claim not counted as an attempt.
     */
    async release(deliveries: readonly ClaimedDelivery[]): Promise<void> {
      for (const delivery of deliveries) {
        await prisma.$executeRaw`
          UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = now()
           WHERE id = ${delivery.id} AND status = 'pending' AND attempts = ${delivery.attempts}::int`;
      }
    },

    /** Only while this worker still holds the delivery (a replay may have queued it again). */
    async markDelivered(delivery: ClaimedDelivery, status: number): Promise<void> {
      await prisma.$executeRaw`
        UPDATE webhook_deliveries
           SET status = 'delivered', delivered_at = now(), last_status = ${status}::int, last_error = NULL
         WHERE id = ${delivery.id} AND status = 'pending' AND attempts = ${delivery.attempts}::int`;
    },

    /** Schedules the next attempt, or gives up after maxAttempts. */
    async markFailed(delivery: ClaimedDelivery, reason: string, status: number | null): Promise<'retry' | 'failed'> {
      const final = delivery.attempts >= maxAttempts;
      const delay = retryDelaySeconds(delivery.attempts, retryDelay);
      await prisma.$executeRaw`
        UPDATE webhook_deliveries
           SET status = ${final ? 'failed' : 'pending'}, last_error = ${reason}, last_status = ${status}::int,
               next_attempt_at = CASE WHEN ${final}::boolean THEN next_attempt_at ELSE now() + ${delay}::int * interval '1 second' END
         WHERE id = ${delivery.id} AND status = 'pending' AND attempts = ${delivery.attempts}::int`;
      return final ? 'failed' : 'retry';
    },

    /**
     * Queues `eventId` again with the same id, to every endpoint subscribed to its type or to
     * `endpointId` alone; returns how many deliveries were queued (0: no such event or endpoint).
     */
    async replay(eventId: string, endpointId?: string): Promise<number> {
      return prisma.$executeRaw`
        INSERT INTO webhook_deliveries (event_id, endpoint_id)
        SELECT event.id, endpoint.id
          FROM webhook_events event, webhook_endpoints endpoint
         WHERE event.id = ${eventId} AND ${receives(Sql.sql`event.type`)}
           AND (${endpointId ?? null}::text IS NULL OR endpoint.id = ${endpointId ?? null}::text)
        ON CONFLICT (event_id, endpoint_id) DO UPDATE
           SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, last_status = NULL, delivered_at = NULL`;
    },

    /** Newest first. */
    async list({ failed = false, endpointId, limit = 50 }: { failed?: boolean; endpointId?: string; limit?: number } = {}): Promise<DeliveryRecord[]> {
      const rows = await prisma.webhookDelivery.findMany({
        where: { ...(failed ? { status: 'failed' } : {}), ...(endpointId ? { endpointId } : {}) },
        include: { event: { select: { type: true } }, endpoint: { select: { url: true } } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map((row) => ({
        id: String(row.id),
        eventId: row.eventId,
        type: row.event.type,
        endpointId: row.endpointId,
        url: row.endpoint.url,
        status: row.status as DeliveryRecord['status'],
        attempts: row.attempts,
        lastStatus: row.lastStatus,
        lastError: row.lastError,
        nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt : null,
        createdAt: row.createdAt,
        deliveredAt: row.deliveredAt,
      }));
    },

    /** Forgets events older than `days` that nothing waits to deliver (delivered, given up, or no endpoint). */
    async deleteFinished(days: number): Promise<number> {
      return prisma.$executeRaw`
        DELETE FROM webhook_events event
         WHERE event.created_at < now() - ${days}::int * interval '1 day'
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = event.id AND d.status = 'pending')`;
    },
  };
}

export type DeliveryQueue = ReturnType<typeof createDeliveryQueue>;
