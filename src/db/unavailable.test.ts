import { describe, expect, it } from 'vitest';
import { errors } from 'oidc-provider';
import { isDatabaseUnavailable } from './unavailable.ts';

/** The shapes a Prisma error has: a code, and the driver adapter's error under meta. */
function prismaError(code: string, driverCause?: Record<string, unknown>) {
  return Object.assign(new Error(`prisma ${code}`), { code, meta: driverCause ? { driverAdapterError: { name: 'DriverAdapterError', cause: driverCause } } : {} });
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['server stopped under a raw query (P2010, 57P01)', prismaError('P2010', { originalCode: '57P01', kind: 'postgres', code: '57P01' })],
    ['server unreachable (P1001)', prismaError('P1001', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 })],
    ['server starting up (57P03)', prismaError('P2010', { kind: 'postgres', code: '57P03' })],
    ['connection exception class 08', prismaError('P2010', { kind: 'postgres', code: '08006' })],
    ['statement timeout (57014)', prismaError('P2010', { kind: 'postgres', code: '57014' })],
    ['connection closed', prismaError('P2036', { kind: 'ConnectionClosed' })],
    ['frozen server: no answer to a query', new Error('Query read timeout')],
    ['frozen server: no answer to connect', Object.assign(new Error('Connection terminated due to connection timeout'), { cause: new Error('Connection terminated unexpectedly') })],
    ['pool full and nothing free in time', new Error('timeout exceeded when trying to connect')],
    ['refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect', errno: -111 })],
  ])('recognises %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', prismaError('P2002', { kind: 'UniqueConstraintViolation' })],
    ['a record not found', prismaError('P2025')],
    ['a protocol error', new errors.InvalidGrant('grant request is invalid')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
  ])('leaves alone %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
