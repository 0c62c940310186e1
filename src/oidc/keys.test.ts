import { describe, expect, it } from 'vitest';
import { describeKeys, generateSigningKey, providerKeySet } from './keys.ts';
import type { StoredKey } from './keys.ts';

const TTL = 3600; // ID token lifetime, seconds
const SKEW = 5 * 60 * 1000;
const HOUR = 3600 * 1000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function key(kid: string, alg: string, activatesAt: number, createdAt = activatesAt): StoredKey {
  return { kid, alg, privateJwk: { kid, alg, kty: alg === 'RS256' ? 'RSA' : alg === 'ES256' ? 'EC' : 'OKP', d: 'private' }, createdAt: new Date(createdAt), activatesAt: new Date(activatesAt) };
}

function statuses(keys: StoredKey[], now: number) {
  return Object.fromEntries(describeKeys(keys, new Date(now), TTL).map((view) => [view.kid, view.status]));
}

describe('describeKeys', () => {
  // `old` signs from T0; `new` is added at T0+10h and signs from T0+11h.
  const rotated = [key('old', 'RS256', T0), key('new', 'RS256', T0 + 11 * HOUR, T0 + 10 * HOUR)];
  const switchover = T0 + 11 * HOUR;
  const retiredAt = switchover + TTL * 1000 + SKEW;

  it('follows a rotation: pending → active, active → retiring → retired after the ID token TTL and 5 min', () => {
    expect(statuses(rotated, T0 + 10 * HOUR)).toEqual({ old: 'active', new: 'pending' });
    expect(statuses(rotated, switchover - 1)).toEqual({ old: 'active', new: 'pending' });
    expect(statuses(rotated, switchover)).toEqual({ old: 'retiring', new: 'active' });
    expect(statuses(rotated, retiredAt - 1)).toEqual({ old: 'retiring', new: 'active' });
    expect(statuses(rotated, retiredAt)).toEqual({ old: 'retired', new: 'active' });
  });

  it('says until when a replaced key stays published', () => {
    const old = describeKeys(rotated, new Date(switchover), TTL).find((view) => view.kid === 'old')!;
    expect(old.publishedUntil).toEqual(new Date(retiredAt));
    const active = describeKeys(rotated, new Date(switchover), TTL).find((view) => view.kid === 'new')!;
    expect(active.publishedUntil).toBeUndefined();
  });

  it('counts a key’s retirement from its own successor, not from later keys', () => {
    const keys = [key('a', 'RS256', T0), key('b', 'RS256', T0 + HOUR), key('c', 'RS256', T0 + 2 * HOUR)];
    const views = describeKeys(keys, new Date(T0 + 2 * HOUR), TTL);
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
    const { jwks } = providerKeySet(keys, new Date(T0 + HOUR), TTL);
    expect(jwks.keys.map((jwk) => [jwk.kid, jwk.key_ops])).toEqual([
      ['rsa-new', undefined],
      ['ec', undefined],
      ['ed', undefined],
      ['rsa-next', ['verify']],
      ['rsa-old', ['verify']],
    ]);
    const later = providerKeySet(keys, new Date(T0 + 2 * HOUR + SKEW), TTL);
    expect(later.jwks.keys.map((jwk) => jwk.kid)).toEqual(['rsa-new', 'ec', 'ed', 'rsa-next']);
  });

  it('never marks the stored key itself as verify-only', () => {
    providerKeySet(keys, new Date(T0 + HOUR), TTL);
    for (const stored of keys) expect(stored.privateJwk).not.toHaveProperty('key_ops');
  });

  it('changes its fingerprint when a key starts or stops signing or being published, and only then', () => {
    const at = (ms: number) => providerKeySet(keys, new Date(ms), TTL).fingerprint;
    expect(at(T0 + HOUR + 1)).toBe(at(T0 + HOUR));
    expect(at(T0 + HOUR - 1)).not.toBe(at(T0 + HOUR));
    expect(at(T0 + 2 * HOUR + SKEW)).not.toBe(at(T0 + 2 * HOUR + SKEW - 1));
    expect(at(T0 + 10 * HOUR)).not.toBe(at(T0 + 10 * HOUR - 1));
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
