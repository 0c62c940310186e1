// Abuse limits, counted in the database so that every replica shares them (one atomic statement
// per event). Fixed windows for requests per IP address or per account, and a progressive
// slow-down for failed sign-ins on one account that never locks its owner out for good.
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
  registerPerIp: { name: 'register-ip', max: 5, windowSeconds: HOUR },
  /** Per address typed, taken or not: each registration of a taken one mails its owner. */
  registerPerAccount: { name: 'register-account', max: 3, windowSeconds: HOUR },
  resetPerIp: { name: 'reset-ip', max: 10, windowSeconds: HOUR },
  resetPerAccount: { name: 'reset-account', max: 3, windowSeconds: HOUR },
  resendPerIp: { name: 'resend-ip', max: 10, windowSeconds: HOUR },
  resendPerAccount: { name: 'resend-account', max: 3, windowSeconds: HOUR },
} as const satisfies Record<string, Limit>;

/** Failed sign-ins on one account: free up to this many, then a growing wait between attempts. */
const FREE_FAILURES = 5;
const FIRST_WAIT_SECONDS = 30;
const MAX_WAIT_SECONDS = 15 * 60;
/** The failure count starts again this long after the first failure of a series. */
const FAILURE_WINDOW_SECONDS = HOUR;

export class TooManyAttemptsError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('too_many', `retry after ${retryAfterSeconds}s`);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** Seconds an account must wait after its `failures`-th failure. */
export function failureWaitSeconds(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** (failures - FREE_FAILURES));
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

  return {
    /** Counts one event; throws TooManyAttemptsError once `limit` is exceeded in its window. */
    async hit(limit: Limit, subject: string): Promise<void> {
      const row = await count(`${limit.name}:${subject}`, limit.windowSeconds);
      if (row.count > limit.max) throw new TooManyAttemptsError(secondsLeft(row.window_started.getTime() + limit.windowSeconds * 1000));
    },

    /**
     * Reserves one sign-in attempt before the password is checked: one slot of the address's
     * failure budget and one of the account's, each taken by a single conditional statement so
     * that concurrent guesses cannot all slip through. Throws TooManyAttemptsError (taking
     * nothing) when either is used up. A failed attempt keeps both slots; call `succeeded()` to
     * give the address its slot back and forget the account's failures.
     */
    async attemptSignIn(ip: string, account: string): Promise<{ succeeded(): Promise<void> }> {
      const ipKey = `${LIMITS.loginPerIp.name}:${ip}`;
      const accountKey = `login-account:${account}`;
      const ipWindow = LIMITS.loginPerIp.windowSeconds;
      const [ipSlot] = await prisma.$queryRaw<Counter[]>`
        INSERT INTO rate_limits AS r (key, count, window_started, last_at) VALUES (${ipKey}, 1, now(), now())
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN r.window_started <= now() - make_interval(secs => ${ipWindow}) THEN 1 ELSE r.count + 1 END,
          window_started = CASE WHEN r.window_started <= now() - make_interval(secs => ${ipWindow}) THEN now() ELSE r.window_started END,
          last_at = now()
        WHERE r.window_started <= now() - make_interval(secs => ${ipWindow}) OR r.count < ${LIMITS.loginPerIp.max}
        RETURNING count, window_started, last_at`;
      if (!ipSlot) {
        const row = await read(ipKey);
        throw new TooManyAttemptsError(row ? secondsLeft(row.window_started.getTime() + ipWindow * 1000) : 60);
      }
      const [accountSlot] = await prisma.$queryRaw<Counter[]>`
        INSERT INTO rate_limits AS r (key, count, window_started, last_at) VALUES (${accountKey}, 1, now(), now())
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN r.window_started <= now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS}) THEN 1 ELSE r.count + 1 END,
          window_started = CASE WHEN r.window_started <= now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS}) THEN now() ELSE r.window_started END,
          last_at = now()
        WHERE r.window_started <= now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS})
           OR r.count < ${FREE_FAILURES}
           OR r.last_at + make_interval(secs => least(${MAX_WAIT_SECONDS}, ${FIRST_WAIT_SECONDS} * power(2, r.count - ${FREE_FAILURES}))::int) <= now()
        RETURNING count, window_started, last_at`;
      const releaseIp = () => prisma.$executeRaw`UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key = ${ipKey}`;
      if (!accountSlot) {
        await releaseIp();
        const row = await read(accountKey);
        throw new TooManyAttemptsError(row ? secondsLeft(row.last_at.getTime() + failureWaitSeconds(row.count) * 1000) : 60);
      }
      return {
        async succeeded() {
          await releaseIp();
          await prisma.rateLimit.deleteMany({ where: { key: accountKey } });
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
