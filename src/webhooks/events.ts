// Recording what happened, for the webhook worker (src/webhooks/index.ts) to deliver. An event
// is written by the same transaction as the change it describes (pass the statement into the
// change's `$transaction`), so a change is never announced without happening, nor happens
// without being announced. The one statement also queues a delivery for every enabled endpoint
// subscribed to the type: a replica that dies right after the commit loses nothing.
import { randomBytes } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import { Prisma as Sql } from '../generated/prisma/client.ts';

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

type Executor = Pick<Prisma, '$executeRaw'>;

/**
 * The endpoints (as `endpoint`) that receive events of `type`, a value or a column such as
 * `event.type`: enabled, and subscribed to that type or to every type.
 */
export const receives = (type: EventType | Sql.Sql) =>
  Sql.sql`endpoint.disabled_at IS NULL AND (cardinality(endpoint.events) = 0 OR ${type} = ANY(endpoint.events))`;

// Every endpoint that receives the type gets a pending delivery of each new event.
const queueDeliveries = (type: EventType) => Sql.sql`
    INSERT INTO webhook_deliveries (event_id, endpoint_id)
    SELECT event.id, endpoint.id
      FROM event, webhook_endpoints endpoint
     WHERE ${receives(type)}`;

/**
 * The statement that records `type` with `data` and queues its deliveries. Returns Prisma's
 * lazy promise: put it in the `$transaction([...])` of the change, or await it alone.
 */
export function recordEvent(prisma: Executor, type: EventType, data: object) {
  const payload = JSON.stringify(eventPayload(type, data));
  return prisma.$executeRaw`
    WITH event AS (
      INSERT INTO webhook_events (id, type, payload) VALUES (${newEventId()}, ${type}, ${payload}::jsonb)
      RETURNING id
    )
    ${queueDeliveries(type)}`;
}

/**
 * One event per row of `rows` (a query with a `data` jsonb column), for a change that one
 * statement makes to many rows (sessions ended by a cleanup or an account's removal). Put it
 * before that statement in the same `$transaction([...])`: it reads the rows the change removes.
 */
export function recordEventsFrom(prisma: Executor, type: EventType, rows: Sql.Sql) {
  return prisma.$executeRaw`
    WITH event AS (
      INSERT INTO webhook_events (id, type, payload)
      SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), ${type},
             jsonb_build_object('type', ${type}::text,
                                'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                'data', source.data)
        FROM (${rows}) source
      RETURNING id
    )
    ${queueDeliveries(type)}`;
}
