// The oidc-provider adapter contract (STYLE.md convention 5), on every store: the behaviours of
// oidc-provider's own adapter tests, plus what its security rests on (atomic consume, grant
// revocation scoped by model).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import { openDatabase } from '../../src/db/database.ts';
import type { Database } from '../../src/db/database.ts';
import { createAdapterFactory, deleteExpiredPayloads } from '../../src/oidc/adapter.ts';
import type { AdapterFactory } from '../../src/oidc/adapter.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const id = () => randomUUID();

describe.each(STORES)('oidc-provider adapter on %s', (kind) => {
  let store: TestStore;
  let db: Database;
  let adapter: AdapterFactory;

  beforeAll(async () => {
    store = await createTestStore(kind);
    db = await openDatabase(store.source, { migrate: true });
    adapter = createAdapterFactory(db.prisma, { providerMetadata: async () => undefined });
  });
  afterAll(async () => {
    await db?.close();
    await store?.dispose();
  });

  it('finds what it stored, and the latest version of it', async () => {
    const key = id();
    const payload: AdapterPayload = {
      jti: key,
      kind: 'AccessToken',
      accountId: 'a-1',
      clientId: 'wiki',
      grantId: 'g-1',
      scope: 'openid email',
      claims: { userinfo: { email: null } },
      extra: { name: 'Zoë «Ünïcode» 名前' },
      exp: 1_900_000_000,
    };
    await adapter('AccessToken').upsert(key, payload, 3600);
    expect(await adapter('AccessToken').find(key)).toEqual(payload);

    await adapter('AccessToken').upsert(key, { ...payload, scope: 'openid' }, 3600);
    expect(await adapter('AccessToken').find(key)).toEqual({ ...payload, scope: 'openid' });
  });

  it('keeps a row without a lifetime', async () => {
    const key = id();
    await adapter('Grant').upsert(key, { jti: key, accountId: 'a-1' }, 0);
    expect(await adapter('Grant').find(key)).toEqual({ jti: key, accountId: 'a-1' });
  });

  it('scopes every lookup by model', async () => {
    const key = id();
    const uid = id();
    const userCode = 'ABCD-EFGH';
    await adapter('Session').upsert(key, { jti: key, uid, kind: 'Session' }, 3600);
    await adapter('DeviceCode').upsert(key, { jti: key, userCode, kind: 'DeviceCode' }, 3600);

    expect(await adapter('AccessToken').find(key)).toBeUndefined();
    expect(await adapter('Interaction').findByUid(uid)).toBeUndefined();
    expect(await adapter('Session').findByUserCode(userCode)).toBeUndefined();
    expect(await adapter('Session').find(key)).toMatchObject({ kind: 'Session' });
    expect(await adapter('DeviceCode').find(key)).toMatchObject({ kind: 'DeviceCode' });

    await adapter('Session').destroy(key);
    expect(await adapter('Session').find(key)).toBeUndefined();
    expect(await adapter('DeviceCode').find(key)).toMatchObject({ kind: 'DeviceCode' });
  });

  it('finds a session by its uid and a device code by its user code', async () => {
    const session = id();
    const uid = id();
    await adapter('Session').upsert(session, { jti: session, uid, accountId: 'a-1' }, 3600);
    expect(await adapter('Session').findByUid(uid)).toEqual({ jti: session, uid, accountId: 'a-1' });
    expect(await adapter('Session').findByUid(id())).toBeUndefined();

    const device = id();
    await adapter('DeviceCode').upsert(device, { jti: device, userCode: 'WXYZ-1234', clientId: 'tv' }, 600);
    expect(await adapter('DeviceCode').findByUserCode('WXYZ-1234')).toEqual({ jti: device, userCode: 'WXYZ-1234', clientId: 'tv' });
    expect(await adapter('DeviceCode').findByUserCode('WXYZ-0000')).toBeUndefined();
  });

  it('treats expired rows as absent, whichever way they are looked up', async () => {
    const key = id();
    const uid = id();
    const userCode = `EXP-${key.slice(0, 8)}`;
    await adapter('Session').upsert(key, { jti: key, uid }, 1);
    await adapter('DeviceCode').upsert(key, { jti: key, userCode }, 1);
    expect(await adapter('Session').find(key)).toBeDefined();

    await sleep(1100);
    expect(await adapter('Session').find(key)).toBeUndefined();
    expect(await adapter('Session').findByUid(uid)).toBeUndefined();
    expect(await adapter('DeviceCode').find(key)).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode(userCode)).toBeUndefined();
  });

  it('marks a consumed row, and refuses to consume it again with invalid_grant', async () => {
    const code = id();
    const before = Math.floor(Date.now() / 1000);
    await adapter('AuthorizationCode').upsert(code, { jti: code, grantId: 'g' }, 60);
    expect(await adapter('AuthorizationCode').find(code)).not.toHaveProperty('consumed');

    await adapter('AuthorizationCode').consume(code);
    const consumed = (await adapter('AuthorizationCode').find(code))!.consumed as number;
    expect(consumed).toBeGreaterThanOrEqual(before);
    expect(consumed).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

    const again = adapter('AuthorizationCode').consume(code);
    await expect(again).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(again).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('lets exactly one of 20 concurrent consume() calls win', async () => {
    const code = id();
    await adapter('AuthorizationCode').upsert(code, { jti: code }, 60);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => adapter('AuthorizationCode').consume(code)));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(errors.InvalidGrant);
    }
  });

  it('keeps a consumed row consumed when it is saved again', async () => {
    const token = id();
    await adapter('RefreshToken').upsert(token, { jti: token, grantId: 'g', rotations: 0 }, 3600);
    await adapter('RefreshToken').consume(token);
    const consumed = (await adapter('RefreshToken').find(token))!.consumed;

    await adapter('RefreshToken').upsert(token, { jti: token, grantId: 'g', rotations: 1 }, 3600);
    expect(await adapter('RefreshToken').find(token)).toEqual({ jti: token, grantId: 'g', rotations: 1, consumed });
    await expect(adapter('RefreshToken').consume(token)).rejects.toBeInstanceOf(errors.InvalidGrant);
  });

  it('does not throw when destroying a row that is not there', async () => {
    await expect(adapter('AccessToken').destroy(id())).resolves.toBeUndefined();
    const key = id();
    await adapter('AccessToken').upsert(key, { jti: key }, 60);
    await adapter('AccessToken').destroy(key);
    await expect(adapter('AccessToken').destroy(key)).resolves.toBeUndefined();
    expect(await adapter('AccessToken').find(key)).toBeUndefined();
  });

  it('revokes by grant only the rows of that grant and that model', async () => {
    const grant = id();
    const otherGrant = id();
    const [a1, a2, other, refresh] = [id(), id(), id(), id()];
    await adapter('AccessToken').upsert(a1, { jti: a1, grantId: grant }, 3600);
    await adapter('AccessToken').upsert(a2, { jti: a2, grantId: grant }, 3600);
    await adapter('AccessToken').upsert(other, { jti: other, grantId: otherGrant }, 3600);
    await adapter('RefreshToken').upsert(refresh, { jti: refresh, grantId: grant }, 3600);

    await adapter('AccessToken').revokeByGrantId(grant);
    expect(await adapter('AccessToken').find(a1)).toBeUndefined();
    expect(await adapter('AccessToken').find(a2)).toBeUndefined();
    expect(await adapter('AccessToken').find(other)).toBeDefined();
    expect(await adapter('RefreshToken').find(refresh)).toBeDefined();

    await expect(adapter('AccessToken').revokeByGrantId(id())).resolves.toBeUndefined();
  });

  it('deletes only expired rows in the cleanup', async () => {
    const [shortLived, longLived, forever] = [id(), id(), id()];
    await adapter('Interaction').upsert(shortLived, { jti: shortLived }, 1);
    await adapter('Interaction').upsert(longLived, { jti: longLived }, 3600);
    await adapter('Grant').upsert(forever, { jti: forever }, 0);
    await sleep(1100);

    const deleted = await deleteExpiredPayloads(db.prisma);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const remaining = await db.prisma.oidcPayload.findMany({ where: { id: { in: [shortLived, longLived, forever] } } });
    expect(remaining.map((row) => row.id).sort()).toEqual([longLived, forever].sort());
    expect(await db.prisma.oidcPayload.count({ where: { expiresAt: { lt: new Date() } } })).toBe(0);
    expect(await deleteExpiredPayloads(db.prisma)).toBe(0);
  });

  it('finds nothing under an id PostgreSQL cannot store (NUL bytes: issue 8, finding 2), and never throws a database error', async () => {
    const forged = 'a\u0000b';
    let asked = 0;
    const counting = createAdapterFactory(db.prisma, { providerMetadata: async () => (asked++, undefined) });
    for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Session', 'Interaction']) {
      expect(await adapter(model).find(forged)).toBeUndefined();
      expect(await adapter(model).findByUid(forged)).toBeUndefined();
      expect(await adapter(model).findByUserCode(forged)).toBeUndefined();
      await expect(adapter(model).destroy(forged)).resolves.toBeUndefined();
      await expect(adapter(model).revokeByGrantId(forged)).resolves.toBeUndefined();
      await expect(adapter(model).consume(forged)).rejects.toBeInstanceOf(errors.InvalidGrant);
    }
    expect(await counting('Client').find(forged)).toBeUndefined();
    expect(asked).toBe(0);
  });

  it('reads clients from the client registry and refuses to store them', async () => {
    expect(await adapter('Client').find('anything')).toBeUndefined();
    await expect(adapter('Client').upsert('x', { client_id: 'x' }, 0)).rejects.toThrow(/admin CLI/);
    expect(await db.prisma.oidcPayload.count({ where: { model: 'Client' } })).toBe(0);
  });
});
