import { describe, expect, it } from 'vitest';
import { describeKeys, dueForRotation, nextTransition, signingKeyPolicy } from './key-life.ts';
import { generateSigningKey, providerKeySet } from './keys.ts';
import type { StoredKey } from './keys.ts';

const TTL = 3600; // ID token lifetime, seconds
const SKEW = 5 * 60 * 1000;
const KEEP = { tokenTtl: TTL, grace: SKEW / 1000 };
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function key(kid: string, alg: string, activatesAt: number, createdAt = activatesAt, revokedAt?: number): StoredKey {
  return {
    kid,
    alg,
    privateJwk: { kid, alg, kty: alg === 'RS256' ? 'RSA' : alg === 'ES256' ? 'EC' : 'OKP', d: 'private' },
    createdAt: new Date(createdAt),
    activatesAt: new Date(activatesAt),
    revokedAt: revokedAt === undefined ? null : new Date(revokedAt),
  };
}

function statuses(keys: StoredKey[], now: number) {
  return Object.fromEntries(describeKeys(keys, new Date(now), KEEP).map((view) => [view.kid, view.status]));
}

describe('describeKeys', () => {
  // `old` signs from T0; `new` is added at T0+10h and signs from T0+11h.
  const rotated = [key('old', 'RS256', T0), key('new', 'RS256', T0 + 11 * HOUR, T0 + 10 * HOUR)];
  const switchover = T0 + 11 * HOUR;
  const retiredAt = switchover + TTL * 1000 + SKEW;

  it('follows a rotation: pending → active, active → retiring → retired after the ID token TTL and the grace', () => {
    expect(statuses(rotated, T0 + 10 * HOUR)).toEqual({ old: 'active', new: 'pending' });
    expect(statuses(rotated, switchover - 1)).toEqual({ old: 'active', new: 'pending' });
    expect(statuses(rotated, switchover)).toEqual({ old: 'retiring', new: 'active' });
    expect(statuses(rotated, retiredAt - 1)).toEqual({ old: 'retiring', new: 'active' });
    expect(statuses(rotated, retiredAt)).toEqual({ old: 'retired', new: 'active' });
  });

  it('says until when a replaced key stays published', () => {
    const old = describeKeys(rotated, new Date(switchover), KEEP).find((view) => view.kid === 'old')!;
    expect(old.publishedUntil).toEqual(new Date(retiredAt));
    const active = describeKeys(rotated, new Date(switchover), KEEP).find((view) => view.kid === 'new')!;
    expect(active.publishedUntil).toBeUndefined();
  });

  it('counts a key’s retirement from its own successor, not from later keys', () => {
    const keys = [key('a', 'RS256', T0), key('b', 'RS256', T0 + HOUR), key('c', 'RS256', T0 + 2 * HOUR)];
    const views = describeKeys(keys, new Date(T0 + 2 * HOUR), KEEP);
    expect(views.map((view) => [view.kid, view.status])).toEqual([
      ['c', 'active'],
      ['b', 'retiring'],
      ['a', 'retiring'],
    ]);
    expect(views.find((view) => view.kid === 'a')!.publishedUntil).toEqual(new Date(T0 + HOUR + TTL * 1000 + SKEW));
    expect(views.find((view) => view.kid === 'b')!.publishedUntil).toEqual(new Date(T0 + 2 * HOUR + TTL * 1000 + SKEW));
  });

  it('keeps each algorithm’s lifecycle separate', () => {
    const keys = [...rotated, key('ec', 'ES256', T0)];
    expect(statuses(keys, retiredAt)).toEqual({ old: 'retired', new: 'active', ec: 'active' });
  });

  it('prefers the newer of two keys that activate at the same time', () => {
    const keys = [key('first', 'ES256', T0, T0 - 2000), key('second', 'ES256', T0, T0 - 1000)];
    expect(statuses(keys, T0)).toEqual({ second: 'active', first: 'retiring' });
  });

  it('has no active key while the only key is pending', () => {
    expect(statuses([key('later', 'EdDSA', T0 + HOUR)], T0)).toEqual({ later: 'pending' });
  });
});

describe('providerKeySet', () => {
  const keys = [
    key('ed', 'EdDSA', T0),
    key('ec', 'ES256', T0),
    key('rsa-old', 'RS256', T0),
    key('rsa-new', 'RS256', T0 + HOUR),
    key('rsa-next', 'RS256', T0 + 10 * HOUR),
  ];

  it('lists signing keys first, RS256 first, then verify-only keys; retired keys are left out', () => {
    const { jwks } = providerKeySet(keys, new Date(T0 + HOUR), KEEP);
    expect(jwks.keys.map((jwk) => [jwk.kid, jwk.key_ops])).toEqual([
      ['rsa-new', undefined],
      ['ec', undefined],
      ['ed', undefined],
      ['rsa-next', ['verify']],
      ['rsa-old', ['verify']],
    ]);
    const later = providerKeySet(keys, new Date(T0 + 2 * HOUR + SKEW), KEEP);
    expect(later.jwks.keys.map((jwk) => jwk.kid)).toEqual(['rsa-new', 'ec', 'ed', 'rsa-next']);
  });

  it('never marks the stored key itself as verify-only', () => {
    providerKeySet(keys, new Date(T0 + HOUR), KEEP);
    for (const stored of keys) expect(stored.privateJwk).not.toHaveProperty('key_ops');
  });

  it('changes its fingerprint when a key starts or stops signing or being published, and only then', () => {
    const at = (ms: number) => providerKeySet(keys, new Date(ms), KEEP).fingerprint;
    expect(at(T0 + HOUR + 1)).toBe(at(T0 + HOUR));
    expect(at(T0 + HOUR - 1)).not.toBe(at(T0 + HOUR));
    expect(at(T0 + 2 * HOUR + SKEW)).not.toBe(at(T0 + 2 * HOUR + SKEW - 1));
    expect(at(T0 + 10 * HOUR)).not.toBe(at(T0 + 10 * HOUR - 1));
  });
});

describe('revoked keys', () => {
  it('are shown as revoked, never published, and the key before a revoked one is not brought back', () => {
    const keys = [key('old', 'RS256', T0), key('leaked', 'RS256', T0 + HOUR, T0 + HOUR, T0 + 2 * HOUR), key('fresh', 'RS256', T0 + 2 * HOUR)];
    expect(statuses(keys, T0 + 2 * HOUR)).toEqual({ fresh: 'active', old: 'retiring', leaked: 'revoked' });
    expect(describeKeys(keys, new Date(T0 + 2 * HOUR), KEEP).find((view) => view.kid === 'leaked')!.revokedAt).toEqual(new Date(T0 + 2 * HOUR));
    const { jwks, fingerprint } = providerKeySet(keys, new Date(T0 + 2 * HOUR), KEEP);
    expect(jwks.keys.map((jwk) => jwk.kid)).toEqual(['fresh', 'old']);
    expect(fingerprint).not.toContain('leaked');
  });

  it('are no successor: a pending key revoked leaves the active key due for rotation', () => {
    const keys = [key('active', 'ES256', T0), key('withdrawn', 'ES256', T0 + 30 * DAY, T0 + 29 * DAY, T0 + 29 * DAY)];
    expect(dueForRotation(keys, new Date(T0 + 29 * DAY), KEEP, 28 * 86400)).toEqual(['ES256']);
  });
});

describe('the rotation schedule', () => {
  const INTERVAL = 90 * 86400; // seconds
  const LEAD = 660; // seconds: JWKS_MAX_AGE 600 + KEY_REFRESH_INTERVAL 60

  it('is due once the active key has signed for the interval, per algorithm', () => {
    const keys = [key('rsa', 'RS256', T0), key('ec', 'ES256', T0 + DAY)];
    expect(dueForRotation(keys, new Date(T0 + INTERVAL * 1000 - 1), KEEP, INTERVAL)).toEqual([]);
    expect(dueForRotation(keys, new Date(T0 + INTERVAL * 1000), KEEP, INTERVAL)).toEqual(['RS256']);
    expect(dueForRotation(keys, new Date(T0 + INTERVAL * 1000 + DAY), KEEP, INTERVAL).sort()).toEqual(['ES256', 'RS256']);
  });

  it('is not due while a successor is pending, and counts from when the successor started signing', () => {
    const due = T0 + INTERVAL * 1000;
    const keys = [key('old', 'RS256', T0), key('next', 'RS256', due + LEAD * 1000, due)];
    expect(dueForRotation(keys, new Date(due + 1000), KEEP, INTERVAL)).toEqual([]);
    expect(dueForRotation(keys, new Date(due + LEAD * 1000), KEEP, INTERVAL)).toEqual([]);
    expect(dueForRotation(keys, new Date(due + LEAD * 1000 + INTERVAL * 1000), KEEP, INTERVAL)).toEqual(['RS256']);
  });

  it('names the next moment the set changes by itself: activation, retirement, or the next rotation', () => {
    const due = T0 + INTERVAL * 1000;
    const keys = [key('old', 'RS256', T0), key('next', 'RS256', due + LEAD * 1000, due)];
    const switchover = due + LEAD * 1000;
    const retires = switchover + TTL * 1000 + SKEW;
    expect(nextTransition(keys.slice(0, 1), new Date(T0), KEEP, INTERVAL)).toEqual(new Date(due));
    expect(nextTransition(keys, new Date(due), KEEP, INTERVAL)).toEqual(new Date(switchover));
    expect(nextTransition(keys, new Date(switchover), KEEP, INTERVAL)).toEqual(new Date(retires));
    expect(nextTransition(keys, new Date(retires), KEEP, INTERVAL)).toEqual(new Date(switchover + INTERVAL * 1000));
  });

  it('has nothing to wait for when only overdue or retired keys are left', () => {
    expect(nextTransition([key('old', 'RS256', T0)], new Date(T0 + INTERVAL * 1000 + 1), KEEP, INTERVAL)).toBeUndefined();
    expect(nextTransition([], new Date(T0), KEEP, INTERVAL)).toBeUndefined();
  });

  it('publishes a new key the JWKS cache time and the refresh interval before it signs, and keeps an old one the ID token TTL and the grace', () => {
    const policy = signingKeyPolicy({ ttl: { idToken: 900 } as never, keyRetirementGrace: 120, keyRotationInterval: INTERVAL, jwksMaxAge: 600, keyRefreshInterval: 60 });
    expect(policy).toEqual({ retention: { tokenTtl: 900, grace: 120 }, schedule: { interval: INTERVAL, lead: 660 } });
  });
});

describe('generateSigningKey', () => {
  it.each(['RS256', 'ES256', 'EdDSA'] as const)('makes a %s key whose kid is its thumbprint', async (alg) => {
    const a = await generateSigningKey(alg);
    const b = await generateSigningKey(alg);
    expect(a.jwk).toMatchObject({ kid: a.kid, alg, use: 'sig' });
    expect(a.jwk.d).toBeTruthy();
    expect(a.kid).toMatch(/^[\w-]{43}$/);
    expect(a.kid).not.toBe(b.kid);
  });
});
