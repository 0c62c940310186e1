// Recording what happened, for the webhook worker (src/webhooks/worker.ts) to deliver. An event
// is written by the same transaction as the change it describes (pass the statement into the
// change's `$transaction`), so a change is never announced without happening, nor happens
// without being announced. The one statement also queues a delivery for every enabled endpoint
// subscribed to the type: a replica that dies right after the commit loses nothing.
import { randomBytes } from 'node:crypto';
import type { Prisma } from '../db/database.ts';

export const EVENT_TYPES = ['user.created', 'user.updated', 'user.deleted', 'session.created', 'session.ended'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The `webhook-id` receivers deduplicate on: the same across every retry and replay. */
export function newEventId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}

/** The Standard Webhooks payload: `{ type, timestamp, data }`. */
export function eventPayload(type: EventType, data: object, at = new Date()) {
  return { type, timestamp: at.toISOString(), data };
}

/**
 * The statement that records `type` with `data` and queues its deliveries. Returns Prisma's
 * lazy promise: put it in the `$transaction([...])` of the change, or await it alone.
 */
export function recordEvent(prisma: Pick<Prisma, '$executeRaw'>, type: EventType, data: object) {
  const payload = JSON.stringify(eventPayload(type, data));
  return prisma.$executeRaw`
    WITH event AS (
      INSERT INTO webhook_events (id, type, payload) VALUES (${newEventId()}, ${type}, ${payload}::jsonb)
      RETURNING id
    )
    INSERT INTO webhook_deliveries (event_id, endpoint_id)
    SELECT event.id, endpoint.id
      FROM event, webhook_endpoints endpoint
     WHERE endpoint.disabled_at IS NULL
       AND (cardinality(endpoint.events) = 0 OR ${type} = ANY(endpoint.events))`;
}
