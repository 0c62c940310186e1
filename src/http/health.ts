// Health for orchestrators and load balancers. /healthz: the process is up and answering (never
// touches the database, so a database outage does not get every replica restarted). /readyz:
// this replica should get traffic: not draining (SIGTERM), the database answers within
// READY_DEADLINE_MS, its migrations are the ones this version expects, the keys are loaded.
// 503 names the failing check. Both are answered before any page middleware runs.
import type Koa from 'koa';
import type { Prisma } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { settleWithin } from '../observability/deadline.ts';

/** A load balancer's check usually times out after 2 to 5 s: answer well before. */
const READY_DEADLINE_MS = 1500;

export type ReadinessCheck = 'draining' | 'database' | 'migrations' | 'keys';

export interface HealthDeps {
  lifecycle: { readonly draining: boolean };
  prisma: Prisma;
  /** The migrations this version was built with (prisma/migrations). */
  migrations: readonly string[];
  /** Whether the provider has its signing keys. */
  keysLoaded(): boolean;
  log: Logger;
}

export function healthEndpoints({ lifecycle, prisma, migrations, keysLoaded, log }: HealthDeps): Koa.Middleware {
  let migrated = false;
  /** The failing check last logged: a change is logged once, not at every probe. */
  let reported: ReadinessCheck | undefined;
  // One query at a time, shared by concurrent checks: a database that hangs holds one connection, not one per probe.
  let inFlight: Promise<ReadinessCheck | undefined> | undefined;

  const probeDatabase = async (): Promise<ReadinessCheck | undefined> => {
    if (migrated) {
      await prisma.$queryRaw`SELECT 1`;
      return undefined;
    }
    const rows = await prisma.$queryRaw<{ name: string }[]>`
      SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    const applied = new Set(rows.map((row) => row.name));
    if (!migrations.every((name) => applied.has(name))) return 'migrations';
    migrated = true;
    return undefined;
  };

  /** The first check that fails, if any, and its error for the database's. */
  const failingCheck = async (): Promise<{ check?: ReadinessCheck; error?: unknown }> => {
    if (lifecycle.draining) return { check: 'draining' };
    if (!keysLoaded()) return { check: 'keys' };
    inFlight ??= probeDatabase().finally(() => (inFlight = undefined));
    return settleWithin(inFlight, READY_DEADLINE_MS).then(
      (check) => ({ check }),
      (error: unknown) => ({ check: 'database' as const, error }),
    );
  };

  // Logged when the answer changes, not at every probe; draining is for main.ts to tell.
  const report = ({ check, error }: { check?: ReadinessCheck; error?: unknown }) => {
    if (check === reported) return;
    if (check === 'database') log.warn({ reason: (error as Error).message }, 'not ready: the database does not answer');
    else if (check === 'migrations') log.error({ expected: migrations }, 'not ready: the database lacks migrations this version needs');
    else if (check === 'keys') log.error('not ready: no signing keys loaded');
    else if (!check) log.info({ was: reported }, 'ready again');
    reported = check;
  };

  const readiness = async (ctx: Koa.Context) => {
    const failing = await failingCheck();
    report(failing);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = failing.check ? 503 : 200;
    ctx.body = failing.check ? { status: 'unavailable', check: failing.check } : { status: 'ready' };
  };
  // Not async: every other request passes straight through, without a promise of its own.
  return (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/readyz') return readiness(ctx);
    if (ctx.path !== '/healthz') return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
    return Promise.resolve();
  };
}
