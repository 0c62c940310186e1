// The audit trail (audit_events): what people did on the hosted pages and what admins changed
// through the CLI, each with who, when, from where and in which request. Never a secret: no
// passwords, tokens, codes, links or cookies, in any field (e-mail addresses are fine).
//
// Writing it must never fail nor slow down what it records. The hosted pages `record()` and do
// not wait: rows recorded while nothing is being written go out together on the next turn of
// the event loop, those recorded meanwhile right after, in one INSERT per batch and in the order
// recorded (a row keeps the moment it was recorded). A batch that fails is written row by row,
// so one row cannot lose the others; each failure is logged in the context of the request that
// recorded it. Both branches of a decision that must not be told apart by timing (known or
// unknown account) record exactly one row the same way. The CLI `write()`s and waits, so that a
// change it cannot record is reported.
import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname, userInfo } from 'node:os';
import type { Prisma } from '../db/database.ts';
import type { Prisma as Sql } from '../generated/prisma/client.ts';
import { currentRequest } from '../http/request-context.ts';

export const ANONYMOUS = 'anonymous';

/** The actor of what a person did once they proved to be the account (signed in, followed its link). */
export const userActor = (userId: string) => `user:${userId}`;

/** The actor of the admin CLI: "admin:<login>@<host>". */
export function adminActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {}
  return `admin:${user}@${hostname()}`;
}

export interface AuditEntry {
  /** What happened, "<subject>.<verb>": sign-in.failed, consent.given, client.add… */
  action: string;
  /** What it happened to: a normalised e-mail address, a client id, a key id… */
  target: string;
  /** The account concerned, when there is one (failures on a known account included). */
  userId?: string | null;
  /** The app concerned; by default the one the current request is for. */
  clientId?: string | null;
  /** Who acted; by default the trail's (the CLI's admin, or "anonymous" on the hosted pages). */
  actor?: string;
  details?: Record<string, unknown>;
}

export interface AuditTrail {
  /** Records `entry` without waiting: a failure to write is reported to `onError`, never thrown. */
  record(entry: AuditEntry): void;
  /** Writes `entry` and waits; throws if it could not be written. */
  write(entry: AuditEntry): Promise<void>;
  /** Resolves once every entry recorded so far is written (or has failed). */
  settled(): Promise<void>;
}

export interface AuditTrailOptions {
  prisma: Prisma;
  /** Who acts when an entry does not say: the CLI's admin, or ANONYMOUS. */
  actor?: string;
  onError(error: unknown, entry: AuditEntry): void;
}

// What a person typed can carry what PostgreSQL refuses to store (NUL, lone surrogates): the
// trail keeps a visible stand-in rather than lose the row.
const clean = (value: unknown): unknown => {
  if (typeof value === 'string') return value.toWellFormed().replace(/[\u0000-\u001f\u007f]/g, '\ufffd');
  if (Array.isArray(value)) return value.map(clean);
  if (value && typeof value === 'object' && !(value instanceof Date)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, clean(inner)]));
  return value;
};

interface Recorded {
  entry: AuditEntry;
  row: Sql.AuditEventCreateManyInput;
  /** Runs a function in the context `record()` was called in (the request, for the log). */
  within: <R>(fn: () => R) => R;
}

export function createAuditTrail({ prisma, actor = ANONYMOUS, onError }: AuditTrailOptions): AuditTrail {
  let queued: Recorded[] = [];
  let writing: Promise<void> | undefined;

  // Read at once: the request's context is what it is when the event happens.
  const rowOf = (entry: AuditEntry) => {
    const request = currentRequest();
    return clean({
      at: new Date(),
      actor: entry.actor ?? actor,
      action: entry.action,
      target: entry.target,
      userId: entry.userId ?? null,
      clientId: entry.clientId === undefined ? (request?.clientId ?? null) : entry.clientId,
      ip: request?.ip ?? null,
      userAgent: request?.userAgent ?? null,
      requestId: request?.requestId ?? null,
      ...(entry.details ? { details: entry.details } : {}),
    }) as Sql.AuditEventCreateManyInput;
  };

  const writeBatch = async (batch: Recorded[]) => {
    try {
      await prisma.auditEvent.createMany({ data: batch.map((recorded) => recorded.row) });
    } catch (error) {
      if (batch.length === 1) return batch[0]!.within(() => onError(error, batch[0]!.entry));
      for (const recorded of batch) {
        await prisma.auditEvent.createMany({ data: [recorded.row] }).catch((failure: unknown) => recorded.within(() => onError(failure, recorded.entry)));
      }
    }
  };

  // One writer at a time: what is recorded while a batch is written waits for the next one.
  const drain = async () => {
    try {
      await new Promise((resolve) => setImmediate(resolve));
      while (queued.length) {
        const batch = queued;
        queued = [];
        await writeBatch(batch);
      }
    } finally {
      writing = undefined;
    }
  };

  return {
    record(entry) {
      queued.push({ entry, row: rowOf(entry), within: AsyncLocalStorage.snapshot() });
      writing ??= drain();
    },
    async write(entry) {
      await prisma.auditEvent.create({ data: rowOf(entry) as Sql.AuditEventCreateInput, select: { id: true } });
    },
    async settled() {
      while (writing) await writing;
    },
  };
}
