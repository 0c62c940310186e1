// Abuse limits, counted in the database so that every replica shares them (one atomic statement
// per event; one for all the slots a sign-in attempt takes). Fixed windows for requests per IP
// address or per account, and for failed sign-ins on one account a lock that the owner's own
// browsers never meet (device cookies, http/device-cookies.ts) and that guesses cannot keep
// renewing one at a time.
import type { Prisma } from '../db/database.ts';
import { AppError } from './errors.ts';
import { Prisma as Sql } from '../generated/prisma/client.ts';

export interface Limit {
  readonly name: string;
  readonly max: number;
  readonly windowSeconds: number;
}

const HOUR = 3600;

export const LIMITS = {
  /** Failed sign-ins from one address (credential stuffing). */
  loginPerIp: { name: 'login-ip', max: 30, windowSeconds: 15 * 60 },
  /** Failed sign-ins with one device cookie: a stolen cookie buys no more than this. */
  loginPerDevice: { name: 'login-device', max: 5, windowSeconds: 15 * 60 },
  registerPerIp: { name: 'register-ip', max: 5, windowSeconds: HOUR },
  /** Per address typed, taken or not: each registration of a taken one mails its owner. */
  registerPerAccount: { name: 'register-account', max: 3, windowSeconds: HOUR },
  resetPerIp: { name: 'reset-ip', max: 10, windowSeconds: HOUR },
  resetPerAccount: { name: 'reset-account', max: 3, windowSeconds: HOUR },
  resendPerIp: { name: 'resend-ip', max: 10, windowSeconds: HOUR },
  resendPerAccount: { name: 'resend-account', max: 3, windowSeconds: HOUR },
  /** Wrong second factors (authenticator codes, recovery codes) from one address. */
  secondFactorPerIp: { name: 'second-factor-ip', max: 30, windowSeconds: 15 * 60 },
  /** Wrong second factors for one account: 5 guesses of a 6-digit code per quarter hour. */
  secondFactorPerAccount: { name: 'second-factor-account', max: 5, windowSeconds: 15 * 60 },
} as const satisfies Record<string, Limit>;

/**
 * Failed sign-ins on one account from browsers it does not know: free up to this many within an
 * hour of the first; the last of them locks the account for LOCK_SECONDS, counted from that
 * failure. Attempts refused meanwhile change nothing, and once the lock is over the count starts
 * again: keeping unknown browsers out takes a full series of guesses every LOCK_SECONDS.
 */
const FREE_FAILURES = 5;
const FAILURE_WINDOW_SECONDS = HOUR;
// 30 minutes: at most ten guesses an hour per account from unknown browsers, fewer than the
// doubling waits allowed before (about thirteen in the first hour).
const LOCK_SECONDS = 30 * 60;

export class TooManyAttemptsError extends AppError {
  readonly retryAfterSeconds: number;

  /** The limit's name, for the audit trail and the metrics. */
  readonly limit: string;

  constructor(retryAfterSeconds: number, limit: string) {
    super('too_many', `retry after ${retryAfterSeconds}s`);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
    this.limit = limit;
  }
}

interface Counter {
  count: number;
  window_started: Date;
  last_at: Date;
}

// The update of a fixed window that `limit` counts in, for a row `r` of rate_limits.
const fixedWindow = (windowSeconds: number) => Sql.sql`
        count = CASE WHEN r.window_started <= now() - make_interval(secs => ${windowSeconds}) THEN 1 ELSE r.count + 1 END,
        window_started = CASE WHEN r.window_started <= now() - make_interval(secs => ${windowSeconds}) THEN now() ELSE r.window_started END,
        last_at = now()`;
// …and whether it has room for one more.
const hasRoom = (limit: Limit) => Sql.sql`r.window_started <= now() - make_interval(secs => ${limit.windowSeconds}) OR r.count < ${limit.max}`;

/**
 * An account's failures: `window_started` is when the series began, and from its last free
 * failure on, when the lock began: a series is over an hour after it began, or LOCK_SECONDS
 * after its lock began. A locked account takes no more until then.
 */
const seriesOver = Sql.sql`r.window_started <= now() - make_interval(secs => CASE WHEN r.count >= ${FREE_FAILURES} THEN ${LOCK_SECONDS}::int ELSE ${FAILURE_WINDOW_SECONDS}::int END)`;
const accountSeries = Sql.sql`
        count = CASE WHEN ${seriesOver} THEN 1 ELSE r.count + 1 END,
        window_started = CASE WHEN ${seriesOver} THEN now() WHEN r.count + 1 = ${FREE_FAILURES} THEN now() ELSE r.window_started END,
        last_at = now()`;
const accountHasRoom = Sql.sql`r.count < ${FREE_FAILURES} OR r.window_started <= now() - make_interval(secs => ${LOCK_SECONDS})`;

interface Reservation {
  ip: string | null;
  device: string | null;
  account: string | null;
  /** When the address's window and the account's series began, as they were before this attempt. */
  ip_window: Date | null;
  account_window: Date | null;
}

export function createRateLimiter(prisma: Prisma) {
  /**
   * One more event in each of `hits`, in one statement, in order: a hit is counted only while
   * those before it are within their limit (as if each were a statement of its own, stopped at
   * the first refusal). Returns the counters of the hits counted.
   */
  const count = async (hits: [Limit, string][]): Promise<(Counter & { i: number })[]> => {
    const steps = hits.map(([limit, subject], i) => {
      const within = hits.slice(0, i).map(([earlier], j) => Sql.sql`(SELECT count FROM ${Sql.raw(`h${j}`)}) <= ${earlier.max}`);
      return Sql.sql`${Sql.raw(`h${i}`)} AS (
        INSERT INTO rate_limits AS r (key, count, window_started, last_at)
        SELECT ${`${limit.name}:${subject}`}, 1, now(), now() WHERE ${within.length ? Sql.join(within, ' AND ') : Sql.sql`true`}
        ON CONFLICT (key) DO UPDATE SET ${fixedWindow(limit.windowSeconds)}
        RETURNING ${i}::int AS i, count, window_started, last_at)`;
    });
    const rows = await prisma.$queryRaw<(Counter & { i: number })[]>`
      WITH ${Sql.join(steps, ', ')}
      ${Sql.join(hits.map((_, i) => Sql.sql`SELECT * FROM ${Sql.raw(`h${i}`)}`), ' UNION ALL ')}`;
    return rows.sort((a, b) => a.i - b.i);
  };
  const secondsLeft = (until: number) => (until - Date.now()) / 1000;
  const hitAll = async (...hits: [Limit, string][]): Promise<void> => {
    for (const row of await count(hits)) {
      const [limit] = hits[row.i]!;
      if (row.count > limit.max) throw new TooManyAttemptsError(secondsLeft(row.window_started.getTime() + limit.windowSeconds * 1000), limit.name);
    }
  };
  const releaseIp = (ipKey: string) => prisma.$executeRaw`UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key = ${ipKey}`;

  /**
   * The slots of one sign-in attempt, in one statement: the address's; if it was free, the
   * device cookie's; if there is none or its budget is spent, the account's. Each upsert is
   * conditional on its row as locked, so concurrent guesses cannot all slip through; a later one
   * runs only when the earlier ones returned their row.
   */
  const reserve = async (ipKey: string, deviceKey: string | null, accountKey: string): Promise<Reservation> => {
    const [row] = await prisma.$queryRaw<Reservation[]>`
      WITH ip AS (
        INSERT INTO rate_limits AS r (key, count, window_started, last_at) VALUES (${ipKey}, 1, now(), now())
        ON CONFLICT (key) DO UPDATE SET ${fixedWindow(LIMITS.loginPerIp.windowSeconds)}
        WHERE ${hasRoom(LIMITS.loginPerIp)}
        RETURNING key
      ), device AS (
        INSERT INTO rate_limits AS r (key, count, window_started, last_at)
        SELECT ${deviceKey}::text, 1, now(), now() WHERE ${deviceKey}::text IS NOT NULL AND EXISTS (SELECT FROM ip)
        ON CONFLICT (key) DO UPDATE SET ${fixedWindow(LIMITS.loginPerDevice.windowSeconds)}
        WHERE ${hasRoom(LIMITS.loginPerDevice)}
        RETURNING key
      ), account AS (
        INSERT INTO rate_limits AS r (key, count, window_started, last_at)
        SELECT ${accountKey}, 1, now(), now() WHERE EXISTS (SELECT FROM ip) AND NOT EXISTS (SELECT FROM device)
        ON CONFLICT (key) DO UPDATE SET ${accountSeries}
        WHERE ${accountHasRoom}
        RETURNING key
      )
      SELECT (SELECT key FROM ip) AS ip, (SELECT key FROM device) AS device, (SELECT key FROM account) AS account,
             (SELECT window_started FROM rate_limits WHERE key = ${ipKey}) AS ip_window,
             (SELECT window_started FROM rate_limits WHERE key = ${accountKey}) AS account_window`;
    return row!;
  };

  return {
    /** Counts one event; throws TooManyAttemptsError once `limit` is exceeded in its window. */
    hit: (limit: Limit, subject: string): Promise<void> => hitAll([limit, subject]),

    /**
     * Counts one event in each limit, in one statement; throws TooManyAttemptsError at the first
     * that is exceeded in its window (those after it are not counted).
     */
    hitAll,

    /**
     * Reserves one sign-in attempt before the password is checked: one of the address's failure
     * budget, then one of the device cookie's (`device`, when the browser shows a valid one for
     * this account) or else one of the account's. A device cookie whose budget is spent counts
     * as no cookie. Throws TooManyAttemptsError (taking nothing) when a slot is missing. A failed
     * attempt keeps its slots; `succeeded()` gives the address its slot back and forgets the
     * failures of the cookie or, without one, of the account. One statement each way.
     */
    async attemptSignIn(ip: string, account: string, device?: string): Promise<{ succeeded(): Promise<void> }> {
      const ipKey = `${LIMITS.loginPerIp.name}:${ip}`;
      const accountKey = `login-account:${account}`;
      const slots = await reserve(ipKey, device ? `${LIMITS.loginPerDevice.name}:${device}` : null, accountKey);
      if (!slots.ip) {
        throw new TooManyAttemptsError(slots.ip_window ? secondsLeft(slots.ip_window.getTime() + LIMITS.loginPerIp.windowSeconds * 1000) : 60, LIMITS.loginPerIp.name);
      }
      const key = slots.device ?? slots.account;
      if (!key) {
        await releaseIp(ipKey);
        throw new TooManyAttemptsError(slots.account_window ? secondsLeft(slots.account_window.getTime() + LOCK_SECONDS * 1000) : 60, 'login-account');
      }
      return {
        async succeeded() {
          await prisma.$executeRaw`
            WITH released AS (UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key = ${ipKey})
            DELETE FROM rate_limits WHERE key = ${key}`;
        },
      };
    },

    /**
     * Reserves one second-factor attempt (a code checked) for the address and the account, in
     * one statement; throws TooManyAttemptsError once either has no room. Only failures should
     * count: `succeeded()` gives both their slot back.
     */
    async attemptSecondFactor(ip: string, userId: string): Promise<{ succeeded(): Promise<void> }> {
      const hits: [Limit, string][] = [[LIMITS.secondFactorPerIp, ip], [LIMITS.secondFactorPerAccount, userId]];
      await hitAll(...hits);
      return {
        async succeeded() {
          const keys = hits.map(([limit, subject]) => `${limit.name}:${subject}`);
          await prisma.$executeRaw`UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key IN (${Sql.join(keys)})`;
        },
      };
    },

    /** Deletes counters nobody has touched for a day (longer than any window). */
    async deleteStale(): Promise<number> {
      const { count: deleted } = await prisma.rateLimit.deleteMany({ where: { lastAt: { lt: new Date(Date.now() - 24 * HOUR * 1000) } } });
      return deleted;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
