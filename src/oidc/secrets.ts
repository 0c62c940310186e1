// Server-wide secrets generated on first start and shared by every replica through the database:
// the keys that sign cookies (Koa's and oidc-provider's, through keygrip), and the keys derived
// from them for one purpose each (CSRF tokens, pending account links, …).
//
// Cookie keys rotate on the signing keys' schedule and go through the same life (key-life.ts): a
// successor is accepted by every replica before it signs (`lead`: KEY_REFRESH_INTERVAL, so every
// replica has loaded it), and a replaced key is still accepted for as long as a cookie it signed
// may live (`keep`). Every reader accepts every kept key; only the active one signs.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import { describeKeys, dueForRotation, nextTransition } from './key-life.ts';
import type { KeyTimes, KeyView, Retention } from './key-life.ts';
import type { Sealer } from './sealing.ts';

const COOKIE_KEYS = 'cookie-keys';

/** As stored (sealed JSON, newest first). Before rotation existed the row held plain strings. */
interface CookieKey {
  secret: string;
  createdAt: string;
  activatesAt: string;
}

export interface CookieKeySchedule {
  /** Seconds a key signs before a successor is added (KEY_ROTATION_INTERVAL). */
  interval: number;
  /** Seconds between adding a successor and its first signature. */
  lead: number;
  /** Seconds a replaced key is still accepted: the longest lifetime of a cookie it signed. */
  keep: number;
}

/** An HMAC for one purpose: signs with the key derived from the active cookie key, accepts any kept one. */
export interface PurposeKey {
  /** base64url HMAC-SHA256 of `value`. */
  sign(value: string): string;
  /** Whether `mac` is the HMAC of `value` under one of the kept keys (constant-time). */
  verify(value: string, mac: string): boolean;
}

export interface ServerSecrets {
  /** Keys for keygrip: the one that signs first, then every one still accepted. */
  cookieKeys(): string[];
  derive(purpose: string): PurposeKey;
  /** Reads the keys again, adding a successor first when one is due; true when they changed. */
  refresh(now?: Date): Promise<boolean>;
  /** The next moment the keys change by themselves. */
  nextTransition(now: Date): Date | undefined;
  /** Identifies cookieKeys(): it changes when they do. */
  fingerprint(): string;
  /** The cookie keys' lives now, for logs and tests (a kid is a hash, never the key). */
  describe(now: Date): KeyView[];
}

const kidOf = (secret: string) => createHash('sha256').update(secret).digest('base64url').slice(0, 12);
const freshKey = (activatesAt: Date, now: Date): CookieKey => ({ secret: randomBytes(32).toString('base64url'), createdAt: now.toISOString(), activatesAt: activatesAt.toISOString() });

function parse(plaintext: string, rowCreatedAt: Date): CookieKey[] {
  const stored = JSON.parse(plaintext) as (CookieKey | string)[];
  // Plain strings: newest first, the first signing since the row was written.
  return stored.map((key, index) =>
    typeof key === 'string' ? { secret: key, createdAt: rowCreatedAt.toISOString(), activatesAt: new Date(rowCreatedAt.getTime() - index).toISOString() } : key,
  );
}

const timesOf = (keys: CookieKey[]): KeyTimes[] =>
  keys.map((key) => ({ kid: kidOf(key.secret), alg: 'cookie', createdAt: new Date(key.createdAt), activatesAt: new Date(key.activatesAt) }));

/** Reads the secrets, generating them on first start (sealed when SECRETS_ENCRYPTION_KEY is set). */
export async function loadServerSecrets(prisma: Prisma, sealer: Sealer, schedule: CookieKeySchedule): Promise<ServerSecrets> {
  const retention: Retention = { tokenTtl: schedule.keep, grace: 0 };
  const started = new Date();
  // Replicas starting together: the first insert wins, everyone reads the winner.
  const fresh = sealer.seal(JSON.stringify([freshKey(started, started)]), COOKIE_KEYS);
  await prisma.serverSecret.createMany({ data: [{ name: COOKIE_KEYS, value: fresh }], skipDuplicates: true });

  let keys: CookieKey[] = [];
  /** Every kept cookie key, the one that signs first (keygrip's order). */
  let ring: string[] = [];
  const derived = new Map<string, Buffer>();
  const deriveFrom = (secret: string, purpose: string) => {
    const id = `${purpose}\n${secret}`;
    if (!derived.has(id)) derived.set(id, Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'base64url'), Buffer.alloc(0), `sesame ${purpose}`, 32)));
    return derived.get(id)!;
  };

  /**
   * Adds a successor (and drops retired keys) when one is due: a conditional update on the value
   * read, so that of replicas looking at the same moment exactly one writes. True if it was due.
   */
  const rotateIfDue = async (value: string, current: CookieKey[], now: Date) => {
    if (!dueForRotation(timesOf(current), now, retention, schedule.interval).length) return false;
    const retired = new Set(describeKeys(timesOf(current), now, retention).filter((view) => view.status === 'retired').map((view) => view.kid));
    const next = [freshKey(new Date(now.getTime() + schedule.lead * 1000), now), ...current.filter((key) => !retired.has(kidOf(key.secret)))];
    await prisma.serverSecret.updateMany({ where: { name: COOKIE_KEYS, value }, data: { value: sealer.seal(JSON.stringify(next), COOKIE_KEYS) } });
    return true;
  };

  const refresh = async (now = new Date()) => {
    let row = await prisma.serverSecret.findUniqueOrThrow({ where: { name: COOKIE_KEYS } });
    let plaintext = sealer.open(row.value, COOKIE_KEYS);
    if (sealer.isStale(row.value)) {
      // Stored before SECRETS_ENCRYPTION_KEY was set, or under the previous one: seal it again now
      // (only if no replica did meanwhile).
      await prisma.serverSecret.updateMany({ where: { name: COOKIE_KEYS, value: row.value }, data: { value: sealer.seal(plaintext, COOKIE_KEYS) } });
    } else if (await rotateIfDue(row.value, parse(plaintext, row.createdAt), now)) {
      // Ours or another replica's successor: read what won.
      row = await prisma.serverSecret.findUniqueOrThrow({ where: { name: COOKIE_KEYS } });
      plaintext = sealer.open(row.value, COOKIE_KEYS);
    }
    keys = parse(plaintext, row.createdAt);
    const bySecret = new Map(keys.map((key) => [kidOf(key.secret), key.secret]));
    const order = { active: 0, pending: 1, retiring: 2 } as Record<string, number>;
    const kept = describeKeys(timesOf(keys), now, retention)
      .filter((view) => view.status in order)
      .sort((a, b) => order[a.status]! - order[b.status]!);
    const next = kept.map((view) => bySecret.get(view.kid)!);
    const changed = next.join() !== ring.join();
    ring = next;
    return changed;
  };

  await refresh(started);
  return {
    cookieKeys: () => ring,
    derive(purpose) {
      const sign = (secret: string, value: string) => createHmac('sha256', deriveFrom(secret, purpose)).update(value).digest('base64url');
      return {
        sign: (value) => sign(ring[0]!, value),
        verify(value, mac) {
          const actual = Buffer.from(mac);
          // Every kept key is tried, so that the time taken does not tell which one matched.
          let matched = false;
          for (const secret of ring) {
            const expected = Buffer.from(sign(secret, value));
            if (expected.length === actual.length && timingSafeEqual(expected, actual)) matched = true;
          }
          return matched;
        },
      };
    },
    refresh,
    fingerprint: () => ring.map(kidOf).join(),
    nextTransition: (now) => nextTransition(timesOf(keys), now, retention, schedule.interval),
    describe: (now) => describeKeys(timesOf(keys), now, retention),
  };
}
