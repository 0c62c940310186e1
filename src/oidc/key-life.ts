// A key's life, derived from its timestamps and how long what it signed may be checked
// (nothing else is stored), and the schedule that rotates keys. Pure: the signing keys (keys.ts)
// and the cookie keys (secrets.ts) go through it.
//   pending  – published, not yet signing (activatesAt in the future)
//   active   – the newest key of its algorithm whose activatesAt has passed: it signs
//   retiring – replaced, still published until every token it signed has expired
//   retired  – no longer published
//   revoked  – withdrawn at once (`keys revoke`, after a leak): never published or used again
//
// The schedule (KEY_ROTATION_INTERVAL): once the active key of an algorithm has signed for the
// interval and no successor is pending, a successor is added that signs `lead` seconds later.
import type { Config } from '../config.ts';

export type KeyStatus = 'pending' | 'active' | 'retiring' | 'retired' | 'revoked';

/** What the life of a key depends on (signing keys in keys.ts, cookie keys in secrets.ts). */
export interface KeyTimes {
  kid: string;
  alg: string;
  createdAt: Date;
  activatesAt: Date;
  revokedAt?: Date | null;
}

export interface KeyView {
  kid: string;
  alg: string;
  status: KeyStatus;
  createdAt: Date;
  activatesAt: Date;
  /** When a replaced key stops being published. */
  publishedUntil?: Date;
  revokedAt?: Date;
}

/** How long a replaced key is kept: the lifetime of what it signed, and a grace for late clocks. */
export interface Retention {
  /** Seconds the last thing a key signed stays valid after the key is replaced (ID_TOKEN_TTL). */
  tokenTtl: number;
  /** Seconds more, for relying apps whose clocks run late (KEY_RETIREMENT_GRACE). */
  grace: number;
}

/** When the schedule adds successors: after `interval` seconds of signing, signing `lead` seconds after being added. */
export interface RotationSchedule {
  interval: number;
  lead: number;
}

/**
 * The schedule the settings give signing keys. A replaced key stays published ID_TOKEN_TTL (and
 * the grace) after it stops signing: ID tokens live that long, JWT access tokens at most that
 * long (resources.ts), and nothing else it signs is kept (signed userinfo and introspection
 * answers are checked on arrival; refresh tokens and opaque access tokens are not signed).
 */
export function signingKeyPolicy(config: Pick<Config, 'ttl' | 'keyRetirementGrace' | 'keyRotationInterval' | 'jwksMaxAge' | 'keyRefreshInterval'>) {
  return {
    retention: { tokenTtl: config.ttl.idToken, grace: config.keyRetirementGrace } satisfies Retention,
    // Before a new key signs, every replica has loaded it and every JWKS cached without it has expired.
    schedule: { interval: config.keyRotationInterval, lead: config.keyRefreshInterval + config.jwksMaxAge } satisfies RotationSchedule,
  };
}

/** Statuses of every key at `now`, newest first within each algorithm, revoked keys last. */
export function describeKeys(keys: KeyTimes[], now: Date, retention: Retention): KeyView[] {
  const keepMs = (retention.tokenTtl + retention.grace) * 1000;
  const views: KeyView[] = [];
  const live = keys.filter((key) => !key.revokedAt);
  for (const alg of new Set(live.map((key) => key.alg))) {
    const sameAlg = live
      .filter((key) => key.alg === alg)
      .sort((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime() || b.createdAt.getTime() - a.createdAt.getTime());
    let successor: KeyTimes | undefined;
    let activeSeen = false;
    for (const key of sameAlg) {
      const view: KeyView = { kid: key.kid, alg, status: 'pending', createdAt: key.createdAt, activatesAt: key.activatesAt };
      if (key.activatesAt > now) {
        view.status = 'pending';
      } else if (!activeSeen) {
        view.status = 'active';
        activeSeen = true;
      } else {
        // `successor` is the next newer key that has activated: this key signed until then.
        const until = new Date(successor!.activatesAt.getTime() + keepMs);
        view.publishedUntil = until;
        view.status = until > now ? 'retiring' : 'retired';
      }
      if (key.activatesAt <= now) successor = key;
      views.push(view);
    }
  }
  for (const key of keys.filter((key) => key.revokedAt)) {
    views.push({ kid: key.kid, alg: key.alg, status: 'revoked', createdAt: key.createdAt, activatesAt: key.activatesAt, revokedAt: key.revokedAt! });
  }
  return views;
}

/** The algorithms whose active key has signed for `interval` seconds with no successor pending. */
export function dueForRotation(keys: KeyTimes[], now: Date, retention: Retention, interval: number): string[] {
  const views = describeKeys(keys, now, retention);
  return views
    .filter((view) => view.status === 'active' && view.activatesAt.getTime() + interval * 1000 <= now.getTime())
    .filter((active) => !views.some((view) => view.alg === active.alg && view.status === 'pending'))
    .map((view) => view.alg);
}

/**
 * The next moment the set changes by itself: a pending key starts signing, a replaced key stops
 * being published, or an active key falls due for rotation. Replicas look again then, so that
 * the change happens on time everywhere.
 */
export function nextTransition(keys: KeyTimes[], now: Date, retention: Retention, interval: number): Date | undefined {
  const times = describeKeys(keys, now, retention).flatMap((view) => {
    if (view.status === 'pending') return [view.activatesAt.getTime()];
    if (view.status === 'retiring') return [view.publishedUntil!.getTime()];
    if (view.status === 'active') return [view.activatesAt.getTime() + interval * 1000];
    return [];
  });
  const future = times.filter((time) => time > now.getTime());
  return future.length ? new Date(Math.min(...future)) : undefined;
}

