// Whole-table jobs (the expired-row cleanup) run on one replica at a time. On PostgreSQL a run
// takes the job's advisory lock with pg_try_advisory_xact_lock, in a transaction that stays open
// while the job works on other connections; a replica that finds the lock taken skips that round.
// The lock ends with its transaction: when the job is done, or when the replica dies (kill -9)
// and PostgreSQL drops its connection, so a crash leaves nothing to expire.
// The embedded store has one process and a single backend, where that transaction would hold the
// connection the job needs: there only this process's own runs are kept apart.
import type { Prisma } from '../db/database.ts';

/** Advisory lock keys, one per job (keys.ts holds the signing keys' lock, 0x5e5a4e01). */
export const JOB_LOCKS = {
  cleanup: 0x5e5a_4e02,
} as const;

export interface ExclusiveJob {
  /** Runs the job, or joins the run under way here; false when another replica was running it. */
  run(): Promise<boolean>;
}

export interface ExclusiveJobOptions {
  lock: number;
  /** PostgreSQL, shared by replicas; false for the embedded store. */
  shared: boolean;
  /** Longest a run may take before its lock is let go (the transaction's timeout). */
  maxSeconds: number;
}

export function createExclusiveJob(prisma: Prisma, { lock, shared, maxSeconds }: ExclusiveJobOptions, work: () => Promise<void>): ExclusiveJob {
  let current: Promise<boolean> | undefined;

  const locked = () =>
    prisma.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${lock}::bigint) AS locked`;
        if (!row?.locked) return false;
        await work();
        return true;
      },
      { timeout: maxSeconds * 1000 },
    );

  return {
    run() {
      current ??= (shared ? locked() : work().then(() => true)).finally(() => {
        current = undefined;
      });
      return current;
    },
  };
}
