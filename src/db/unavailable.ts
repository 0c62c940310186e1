// Tells a database that is down, restarting, unreachable or too slow apart from every other
// error, so that requests answer "temporarily unavailable, try again" (503) instead of a 500.
// The same outage reaches us in several shapes: Prisma's connection codes, its driver adapter's
// error kinds (inside a P2010 or as `meta.driverAdapterError`), and node-postgres' own errors,
// which Prisma passes through unwrapped (a connection or read timeout).
import type { Logger } from '../log.ts';

/** Prisma: can't reach the server, timed out, server closed the connection, pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** The driver adapter's names for a lost or refused connection. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * PostgreSQL SQLSTATEs: 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now
 * (starting up), 57014 statement cancelled (our statement_timeout), 53300 too many connections;
 * class 08 is connection exceptions.
 */
const POSTGRES_CODES = new Set(['57P01', '57P02', '57P03', '57014', '53300']);
const MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
];

function isOutageCode(code: unknown): boolean {
  if (typeof code !== 'string') return false;
  return PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || POSTGRES_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const look = (value: unknown, depth: number): boolean => {
    if (!value || typeof value !== 'object' || seen.has(value) || depth > 6) return false;
    seen.add(value);
    const candidate = value as { code?: unknown; originalCode?: unknown; kind?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (isOutageCode(candidate.code) || isOutageCode(candidate.originalCode)) return true;
    if (typeof candidate.kind === 'string' && ADAPTER_KINDS.has(candidate.kind)) return true;
    if (typeof candidate.message === 'string' && MESSAGES.some((text) => (candidate.message as string).startsWith(text))) return true;
    return look(candidate.cause, depth + 1) || look(candidate.meta?.driverAdapterError, depth + 1);
  };
  return look(error, 0);
}

/**
 * Logs a failure of a request or a background job: an outage at `warn` without its stack (one
 * cause, already named by /readyz, that would otherwise fill the log with identical traces), any
 * other error at `error` with it.
 */
export function logFailure(log: Pick<Logger, 'warn' | 'error'>, error: unknown, fields: Record<string, unknown>, message: string): void {
  if (isDatabaseUnavailable(error)) log.warn({ ...fields, reason: (error as Error)?.message }, `${message}: database unavailable`);
  else log.error({ ...fields, err: error }, message);
}
