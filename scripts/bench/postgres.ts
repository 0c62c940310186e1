// The benchmark's own PostgreSQL (never the shared server): a throwaway cluster with
// pg_stat_statements, so that every statement Sésame sends during a round is counted, and its
// processes, so that the database's CPU time is counted too.
import pg from 'pg';
import { startPostgresCluster } from '../../test/support/postgres-cluster.ts';
import { atExit, cpuMs, processTree } from './processes.ts';

export interface BenchDatabase {
  url: string;
  resetStatements(): Promise<void>;
  /** Statements run since the reset, the counting queries left out. */
  statements(): Promise<number>;
  /** CPU time of the postmaster and every backend, in ms. */
  cpuMs(): number;
  close(): Promise<void>;
}

export async function startBenchDatabase(): Promise<BenchDatabase> {
  const cluster = await startPostgresCluster({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
  atExit(() => cluster.destroy());
  const url = await cluster.createDatabase('sesame_bench');
  const stats = new pg.Client({ connectionString: url });
  await stats.connect();
  await stats.query('CREATE EXTENSION pg_stat_statements');
  return {
    url,
    async resetStatements() {
      await stats.query('SELECT pg_stat_statements_reset()');
    },
    async statements() {
      const { rows } = await stats.query<{ calls: string }>(
        `SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat_statements%'`,
      );
      return Number(rows[0]!.calls);
    },
    cpuMs: () => sum(processTree(cluster.pid()).map(cpuMs)),
    close: () => stats.end(),
  };
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
