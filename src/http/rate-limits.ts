// Abuse limits, counted in the database so that every replica shares them (one atomic statement
// per event). Fixed windows for requests per IP address or per account, and for failed sign-ins
// on one account a lock that the owner's own browsers never meet (device cookies,
// http/device-cookies.ts) and that guesses cannot keep renewing one at a time.
import type { Prisma } from '../db/database.ts';
import { AppError } from './errors.ts';
import { forget, memoized } from '../db/request-memo.ts';

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

  constructor(retryAfterSeconds: number) {
    super('too_many', `retry after ${retryAfterSeconds}s`);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

interface Counter {
  count: number;
  window_started: Date;
  last_at: Date;
}

export function createRateLimiter(prisma: Prisma) {
  const count = async (key: string, windowSeconds: number): Promise<Counter> => {
    forget(`rate:${key}`);
    const [row] = await prisma.$queryRaw<Counter[]>`
      INSERT INTO rate_limits (key, count, window_started, last_at) VALUES (${key}, 1, now(), now())
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limits.window_started <= now() - make_interval(secs => ${windowSeconds}) THEN 1 ELSE rate_limits.count + 1 END,
        window_started = CASE WHEN rate_limits.window_started <= now() - make_interval(secs => ${windowSeconds}) THEN now() ELSE rate_limits.window_started END,
        last_at = now()
      RETURNING count, window_started, last_at`;
    return row!;
  };
  const read = (key: string): Promise<Counter | undefined> =>
    memoized(`rate:${key}`, async () => {
      const row = await prisma.rateLimit.findUnique({ where: { key } });
      return row ? { count: row.count, window_started: row.windowStarted, last_at: row.lastAt } : undefined;
    });
  const secondsLeft = (until: number) => (until - Date.now()) / 1000;

  /** One more in `limit`'s window, unless it is full: the row, or nothing when refused. */
  const reserve = async (key: string, limit: Limit): Promise<Counter | undefined> => {
    forget(`rate:${key}`);
    const [row] = await prisma.$queryRaw<Counter[]>`
      INSERT INTO rate_limits AS r (key, count, window_started, last_at) VALUES (${key}, 1, now(), now())
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN r.window_started <= now() - make_interval(secs => ${limit.windowSeconds}) THEN 1 ELSE r.count + 1 END,
        window_started = CASE WHEN r.window_started <= now() - make_interval(secs => ${limit.windowSeconds}) THEN now() ELSE r.window_started END,
        last_at = now()
      WHERE r.window_started <= now() - make_interval(secs => ${limit.windowSeconds}) OR r.count < ${limit.max}
      RETURNING count, window_started, last_at`;
    return row;
  };

  /**
   * One more failure for an account, unless it is locked: its key, or nothing when refused.
   * `window_started` is when the series began, and from its last free failure on, when the lock
   * began: a series is over an hour after it began, or LOCK_SECONDS after its lock began.
   */
  const reserveAccount = async (key: string): Promise<string | undefined> => {
    forget(`rate:${key}`);
    const [row] = await prisma.$queryRaw<Counter[]>`
      INSERT INTO rate_limits AS r (key, count, window_started, last_at) VALUES (${key}, 1, now(), now())
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN r.window_started <= now() - make_interval(secs => CASE WHEN r.count >= ${FREE_FAILURES} THEN ${LOCK_SECONDS}::int ELSE ${FAILURE_WINDOW_SECONDS}::int END) THEN 1 ELSE r.count + 1 END,
        window_started = CASE
          WHEN r.window_started <= now() - make_interval(secs => CASE WHEN r.count >= ${FREE_FAILURES} THEN ${LOCK_SECONDS}::int ELSE ${FAILURE_WINDOW_SECONDS}::int END) THEN now()
          WHEN r.count + 1 = ${FREE_FAILURES} THEN now()
          ELSE r.window_started END,
        last_at = now()
      WHERE r.count < ${FREE_FAILURES} OR r.window_started <= now() - make_interval(secs => ${LOCK_SECONDS})
      RETURNING count, window_started, last_at`;
    return row ? key : undefined;
  };

  return {
    /** Counts one event; throws TooManyAttemptsError once `limit` is exceeded in its window. */
    async hit(limit: Limit, subject: string): Promise<void> {
      const row = await count(`${limit.name}:${subject}`, limit.windowSeconds);
      if (row.count > limit.max) throw new TooManyAttemptsError(secondsLeft(row.window_started.getTime() + limit.windowSeconds * 1000));
    },

    /**
     * Reserves one sign-in attempt before the password is checked, each slot taken by a single
     * conditional statement so that concurrent guesses cannot all slip through: one of the
     * address's failure budget, then one of the device cookie's (`device`, when the browser
     * shows a valid one for this account) or else one of the account's. A device cookie whose
     * budget is spent counts as no cookie. Throws TooManyAttemptsError (taking nothing) when a
     * slot is missing. A failed attempt keeps its slots; `succeeded()` gives the address its slot
     * back and forgets the failures of the cookie or, without one, of the account.
     */
    async attemptSignIn(ip: string, account: string, device?: string): Promise<{ succeeded(): Promise<void> }> {
      const ipKey = `${LIMITS.loginPerIp.name}:${ip}`;
      const ipSlot = await reserve(ipKey, LIMITS.loginPerIp);
      if (!ipSlot) {
        const row = await read(ipKey);
        throw new TooManyAttemptsError(row ? secondsLeft(row.window_started.getTime() + LIMITS.loginPerIp.windowSeconds * 1000) : 60);
      }
      const releaseIp = () => prisma.$executeRaw`UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key = ${ipKey}`;
      const deviceKey = device ? `${LIMITS.loginPerDevice.name}:${device}` : undefined;
      const key = deviceKey && (await reserve(deviceKey, LIMITS.loginPerDevice)) ? deviceKey : await reserveAccount(`login-account:${account}`);
      if (!key) {
        await releaseIp();
        const row = await read(`login-account:${account}`);
        throw new TooManyAttemptsError(row ? secondsLeft(row.window_started.getTime() + LOCK_SECONDS * 1000) : 60);
      }
      return {
        async succeeded() {
          await releaseIp();
          await prisma.rateLimit.deleteMany({ where: { key } });
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
