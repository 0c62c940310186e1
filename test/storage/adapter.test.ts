// The oidc-provider adapter contract (STYLE.md convention 5), on every store: the behaviours of
// oidc-provider's own adapter tests, plus what its security rests on (atomic consume, grant
// revocation scoped by model).
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import { openDatabase } from '../../src/db/database.ts';
import type { Database } from '../../src/db/database.ts';
import { createAdapterFactory, deleteExpiredPayloads } from '../../src/oidc/adapter.ts';
import type { AdapterFactory } from '../../src/oidc/adapter.ts';
import { createFindAccount } from '../../src/oidc/account.ts';
import { requestScope } from '../../src/http/request-context.ts';
import { memoized, writeBeforeAnswer } from '../../src/db/request-memo.ts';
import { createConsentStore } from '../../src/accounts/consents.ts';
import { createProviderRows, keepSignInGoing, proposeAddress, revokeEverythingOf } from '../../src/oidc/provider-rows.ts';
import type { AuditTrail } from '../../src/audit/trail.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

const memoizedUser = (userId: string) => memoized(`user:${userId}`, async () => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const id = () => randomUUID();

describe.each(STORES)('oidc-provider adapter on %s', (kind) => {
  let store: TestStore;
  let db: Database;
  let adapter: AdapterFactory;
  let statements: string[] = [];
  /** `work` as one HTTP request does it (the memo of reads is per request), and the SQL it ran. */
  const inOneRequest = async (work: () => Promise<void>) => {
    statements = [];
    await requestScope({} as Koa.Context, work);
    return statements.filter((query) => !/^(BEGIN|COMMIT|SELECT 1)\b/.test(query));
  };

  beforeAll(async () => {
    store = await createTestStore(kind);
    db = await openDatabase(store.source, { migrate: true, onQuery: ({ query }) => statements.push(query) });
    adapter = createAdapterFactory(db.sql, { providerMetadata: async () => undefined });
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
    // Lifetimes count in whole seconds from the current second (as oidc-provider's exp): two
    // seconds leave at least one of life for the first look.
    await adapter('Session').upsert(key, { jti: key, uid }, 2);
    await adapter('DeviceCode').upsert(key, { jti: key, userCode }, 2);
    const expired = (Math.floor(Date.now() / 1000) + 2) * 1000;
    expect(await adapter('Session').find(key)).toBeDefined();

    await sleep(expired + 50 - Date.now());
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

  it('writes a row saved again unchanged within one request only once, and a changed or deleted one again', async () => {
    const key = id();
    const payload = { jti: key, uid: id(), accountId: 'a-1', exp: Math.floor(Date.now() / 1000) + 600 };
    const ran = await inOneRequest(async () => {
      await adapter('Interaction').upsert(key, payload, 600);
      await adapter('Interaction').upsert(key, { ...payload }, 600);
      expect(await adapter('Interaction').find(key)).toEqual(payload);
      await adapter('Interaction').upsert(key, { ...payload, result: { login: { accountId: 'a-1' } } }, 600);
      await adapter('Interaction').destroy(key);
      await adapter('Interaction').upsert(key, { ...payload, result: { login: { accountId: 'a-1' } } }, 600);
    });
    expect(ran.filter((query) => query.includes('INSERT INTO oidc_payload'))).toHaveLength(3);
    expect(await adapter('Interaction').find(key)).toEqual({ ...payload, result: { login: { accountId: 'a-1' } } });
  });

  it('reads a token with its grant, its session and its account in one statement, the account as Prisma reads it', async () => {
    const [token, grantId, sessionId, sessionUid, userId] = [id(), id(), id(), id(), id()];
    await db.prisma.user.create({ data: { id: userId, email: `${userId}@example.com`, emailKey: `${userId}@example.com`, givenName: 'Zoë', roles: ['member', 'admin'] } });
    await adapter('Grant').upsert(grantId, { jti: grantId, accountId: userId, clientId: 'wiki' }, 3600);
    await adapter('Session').upsert(sessionId, { jti: sessionId, uid: sessionUid, accountId: userId }, 3600);
    await adapter('AccessToken').upsert(token, { jti: token, grantId, sessionUid, accountId: userId, clientId: 'wiki' }, 3600);
    const findAccount = createFindAccount(db.sql);

    const ran = await inOneRequest(async () => {
      expect(await adapter('AccessToken').find(token)).toMatchObject({ grantId, sessionUid });
      expect(await adapter('Grant').find(grantId)).toEqual({ jti: grantId, accountId: userId, clientId: 'wiki' });
      expect(await adapter('Session').findByUid(sessionUid)).toEqual({ jti: sessionId, uid: sessionUid, accountId: userId });
      const account = await findAccount({} as never, userId);
      expect(await account!.claims('userinfo', 'openid', {}, [])).toMatchObject({ sub: userId, given_name: 'Zoë', roles: ['member', 'admin'] });
    });
    expect(ran).toHaveLength(1);

    let remembered: unknown;
    await requestScope({} as Koa.Context, async () => {
      await adapter('AccessToken').find(token);
      remembered = await memoizedUser(userId);
    });
    expect(remembered).toEqual(await db.prisma.user.findUnique({ where: { id: userId } }));
  });

  it('looks a token up as several models at once in one statement, each finding only its own', async () => {
    const token = id();
    await adapter('ClientCredentials').upsert(token, { jti: token, clientId: 'api' }, 600);
    const ran = await inOneRequest(async () => {
      const found = await Promise.all(['AccessToken', 'ClientCredentials', 'RefreshToken'].map((model) => adapter(model).find(token)));
      expect(found).toEqual([undefined, { jti: token, clientId: 'api' }, undefined]);
    });
    expect(ran).toHaveLength(1);
  });

  it('sees within a request what it consumed, deleted or revoked there', async () => {
    const [code, grant, access] = [id(), id(), id()];
    await adapter('AuthorizationCode').upsert(code, { jti: code, grantId: grant }, 60);
    await adapter('AccessToken').upsert(access, { jti: access, grantId: grant }, 60);
    await adapter('Grant').upsert(grant, { jti: grant }, 60);
    await inOneRequest(async () => {
      expect(await adapter('AuthorizationCode').find(code)).not.toHaveProperty('consumed');
      await adapter('AuthorizationCode').consume(code);
      expect(await adapter('AuthorizationCode').find(code)).toHaveProperty('consumed');
      expect(await adapter('AccessToken').find(access)).toBeDefined();
      expect(await adapter('Grant').find(grant)).toBeDefined();
      await adapter('AccessToken').revokeByGrantId(grant);
      await adapter('Grant').destroy(grant);
      expect(await adapter('AccessToken').find(access)).toBeUndefined();
      expect(await adapter('Grant').find(grant)).toBeUndefined();
    });
  });

  it('lets exactly one of 10 concurrent redemptions in separate requests win', async () => {
    const code = id();
    await adapter('AuthorizationCode').upsert(code, { jti: code }, 60);
    const redeem = () =>
      new Promise<boolean>((resolve) => {
        void requestScope({} as Koa.Context, async () => {
          const found = await adapter('AuthorizationCode').find(code);
          if (!found || found.consumed) return resolve(false);
          resolve(await adapter('AuthorizationCode').consume(code).then(() => true, () => false));
        });
      });
    const results = await Promise.all(Array.from({ length: 10 }, redeem));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('writes the tokens a request mints together, before its answer, and what it read back in the meantime comes from that request', async () => {
    const [access, refresh, code] = [id(), id(), id()];
    await adapter('AuthorizationCode').upsert(code, { jti: code }, 60);
    let beforeAnswer: string[] = [];
    const ran = await inOneRequest(() =>
      writeBeforeAnswer({} as Koa.Context, async () => {
        await adapter('AuthorizationCode').find(code);
        await adapter('AccessToken').upsert(access, { jti: access, grantId: 'g' }, 3600);
        await adapter('RefreshToken').upsert(refresh, { jti: refresh, grantId: 'g' }, 3600);
        expect(await adapter('AccessToken').find(access)).toEqual({ jti: access, grantId: 'g' });
        beforeAnswer = [...statements];
      }),
    );
    expect(beforeAnswer.filter((query) => query.includes('INSERT INTO oidc_payload'))).toHaveLength(0);
    expect(ran.filter((query) => query.includes('INSERT INTO oidc_payload'))).toHaveLength(1);
    expect(await adapter('AccessToken').find(access)).toEqual({ jti: access, grantId: 'g' });
    expect(await adapter('RefreshToken').find(refresh)).toEqual({ jti: refresh, grantId: 'g' });
  });

  it('makes the writes it holds before anything else touches the table, and holds none of a token it consumed', async () => {
    const [access, spent] = [id(), id()];
    await adapter('RefreshToken').upsert(spent, { jti: spent, grantId: 'g2' }, 3600);
    await inOneRequest(() =>
      writeBeforeAnswer({} as Koa.Context, async () => {
        await adapter('AccessToken').upsert(access, { jti: access, grantId: 'g2' }, 3600);
        await adapter('AccessToken').revokeByGrantId('g2');
        expect(await adapter('AccessToken').find(access)).toBeUndefined();
        // Read, then consumed and saved again in the same request: written at once, still spent.
        await adapter('RefreshToken').find(spent);
        await adapter('RefreshToken').consume(spent);
        await adapter('RefreshToken').upsert(spent, { jti: spent, grantId: 'g2', rotations: 1 }, 3600);
        expect(await adapter('RefreshToken').find(spent)).toHaveProperty('consumed');
      }),
    );
    expect(await adapter('AccessToken').find(access)).toBeUndefined();
    expect(await adapter('RefreshToken').find(spent)).toMatchObject({ rotations: 1, consumed: expect.any(Number) });
  });

  it('holds a page request\'s saves and deletes until its answer, in one statement, and reads them back meanwhile', async () => {
    const [interaction, next, oldSession, newSession, sessionUid, grant, code] = [id(), id(), id(), id(), id(), id(), id()];
    await adapter('Interaction').upsert(interaction, { jti: interaction }, 600);
    await adapter('Session').upsert(oldSession, { jti: oldSession, uid: sessionUid, accountId: 'a' }, 600);
    let beforeAnswer: string[] = [];
    const ran = await inOneRequest(() =>
      writeBeforeAnswer({} as Koa.Context, async () => {
        expect(await adapter('Session').find(oldSession)).toMatchObject({ uid: sessionUid });
        expect(await adapter('Interaction').find(interaction)).toEqual({ jti: interaction });
        await adapter('Interaction').destroy(interaction);
        await adapter('Interaction').upsert(next, { jti: next, scope: 'consent' }, 600);
        await adapter('Grant').upsert(grant, { jti: grant, accountId: 'a' }, 600);
        await adapter('AuthorizationCode').upsert(code, { jti: code, grantId: grant }, 60);
        // oidc-provider's session id rotation: the old row goes, the same uid under a new id.
        await adapter('Session').destroy(oldSession);
        await adapter('Session').upsert(newSession, { jti: newSession, uid: sessionUid, accountId: 'a', touched: 1 }, 600);
        beforeAnswer = [...statements];
        // Read your writes: what was deleted is gone, what was saved is there, by id and by uid.
        expect(await adapter('Interaction').find(interaction)).toBeUndefined();
        expect(await adapter('Session').find(oldSession)).toBeUndefined();
        expect(await adapter('Interaction').find(next)).toEqual({ jti: next, scope: 'consent' });
        expect(await adapter('Session').findByUid(sessionUid)).toEqual({ jti: newSession, uid: sessionUid, accountId: 'a', touched: 1 });
        expect(await adapter('AuthorizationCode').find(code)).toEqual({ jti: code, grantId: grant });
      }),
    );
    const writes = (list: string[]) => list.filter((query) => /INSERT INTO oidc_payload|DELETE FROM oidc_payload/.test(query));
    expect(writes(beforeAnswer)).toHaveLength(0);
    expect(writes(ran)).toHaveLength(1);
    expect(ran).toHaveLength(3);
    expect(await adapter('Interaction').find(interaction)).toBeUndefined();
    expect(await adapter('Session').find(oldSession)).toBeUndefined();
    expect(await adapter('Interaction').find(next)).toEqual({ jti: next, scope: 'consent' });
    expect(await adapter('Session').findByUid(sessionUid)).toMatchObject({ jti: newSession, touched: 1 });
    expect(await adapter('Grant').find(grant)).toEqual({ jti: grant, accountId: 'a' });
    expect(await adapter('AuthorizationCode').find(code)).toEqual({ jti: code, grantId: grant });
  });

  it('deletes a row saved and deleted in one request, whether it was there before or not, and saves one deleted then saved again', async () => {
    const [fresh, existing, again] = [id(), id(), id()];
    await adapter('Interaction').upsert(existing, { jti: existing }, 600);
    await adapter('Interaction').upsert(again, { jti: again, v: 1 }, 600);
    const ran = await inOneRequest(() =>
      writeBeforeAnswer({} as Koa.Context, async () => {
        await adapter('Interaction').upsert(fresh, { jti: fresh }, 600);
        await adapter('Interaction').destroy(fresh);
        await adapter('Interaction').upsert(existing, { jti: existing, v: 2 }, 600);
        await adapter('Interaction').destroy(existing);
        expect(await adapter('Interaction').find(fresh)).toBeUndefined();
        expect(await adapter('Interaction').find(existing)).toBeUndefined();
        await adapter('Interaction').destroy(again);
        await adapter('Interaction').upsert(again, { jti: again, v: 3 }, 600);
        expect(await adapter('Interaction').find(again)).toEqual({ jti: again, v: 3 });
      }),
    );
    expect(ran.filter((query) => query.includes('INSERT INTO oidc_payload'))).toHaveLength(1);
    expect(await adapter('Interaction').find(fresh)).toBeUndefined();
    expect(await adapter('Interaction').find(existing)).toBeUndefined();
    expect(await adapter('Interaction').find(again)).toEqual({ jti: again, v: 3 });
  });

  it('reads an interaction with its session, the person and what they allowed apps in one statement', async () => {
    const [interaction, sessionId, sessionUid, userId] = [id(), id(), id(), id()];
    await db.prisma.user.create({ data: { id: userId, email: `${userId}@example.com`, emailKey: `${userId}@example.com`, givenName: 'Zoë' } });
    const consents = createConsentStore(db.prisma, { record() {} } as unknown as AuditTrail);
    const clientId = id();
    await db.prisma.client.create({ data: { id: clientId, definition: {} } });
    await consents.remember(userId, clientId, ['openid', 'email'], ['email']);
    await adapter('Session').upsert(sessionId, { jti: sessionId, uid: sessionUid, accountId: userId }, 600);
    await adapter('Interaction').upsert(interaction, { jti: interaction, session: { uid: sessionUid, accountId: userId } }, 600);
    const findAccount = createFindAccount(db.sql);

    const ran = await inOneRequest(async () => {
      expect(await adapter('Interaction').find(interaction)).toMatchObject({ session: { uid: sessionUid } });
      expect(await adapter('Session').findByUid(sessionUid)).toEqual({ jti: sessionId, uid: sessionUid, accountId: userId });
      expect(await findAccount({} as never, userId)).toMatchObject({ accountId: userId });
      expect(await consents.find(userId, clientId)).toEqual({ clientId, scopes: ['email', 'openid'], claims: ['email'] });
      expect(await consents.find(userId, 'blog')).toBeUndefined();
    });
    expect(ran).toHaveLength(1);

    // The session looked up by uid alone comes with the person and their consents too.
    const byUid = await inOneRequest(async () => {
      await adapter('Session').findByUid(sessionUid);
      expect(await findAccount({} as never, userId)).toMatchObject({ accountId: userId });
      expect(await consents.find(userId, clientId)).toMatchObject({ clientId });
    });
    expect(byUid).toHaveLength(1);
  });

  it('writes at once what work a request left running saves after its answer', async () => {
    const key = id();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let later!: Promise<void>;
    await inOneRequest(() =>
      writeBeforeAnswer({} as Koa.Context, async () => {
        later = gate.then(() => adapter('Interaction').upsert(key, { jti: key }, 600));
      }),
    );
    release();
    await later;
    expect(await adapter('Interaction').find(key)).toEqual({ jti: key });
  });

  describe('answering a page request', () => {
    /** A page that saves `payload` under `key` and redirects; `fail` answers errors as a page would (503). */
    const servePage = (key: string, payload: AdapterPayload) => {
      const app = new Koa();
      app.use(requestScope);
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch {
          ctx.status = 503;
          ctx.body = 'temporarily unavailable';
        }
      });
      app.use(writeBeforeAnswer);
      app.use(async (ctx) => {
        await adapter('Interaction').upsert(key, payload, 600);
        ctx.redirect(`/interaction/${key}`);
      });
      return new Promise<{ url: string; close(): void }>((resolve) => {
        const server = app.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          resolve({ url: `http://127.0.0.1:${port}/`, close: () => server.close() });
        });
      });
    };

    it('has written what it saved when the redirect arrives', async () => {
      const key = id();
      const page = await servePage(key, { jti: key, scope: 'login' });
      try {
        const response = await fetch(page.url, { redirect: 'manual' });
        expect(response.status).toBe(302);
        expect(await adapter('Interaction').find(key)).toEqual({ jti: key, scope: 'login' });
      } finally {
        page.close();
      }
    });

    it('answers an error, not the redirect, when what it saved cannot be written', async () => {
      const key = id();
      // PostgreSQL refuses a NUL in JSON text: the held write fails after the page has redirected.
      const page = await servePage(key, { jti: key, note: 'a\u0000b' });
      try {
        const response = await fetch(page.url, { redirect: 'manual' });
        expect(response.status).toBe(503);
        expect(response.headers.get('location')).toBeNull();
        expect(await adapter('Interaction').find(key)).toBeUndefined();
      } finally {
        page.close();
      }
    });
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
    const counting = createAdapterFactory(db.sql, { providerMetadata: async () => (asked++, undefined) });
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

  // The one way into these rows from outside oidc-provider (src/oidc/provider-rows.ts), on the
  // payloads oidc-provider writes: a session's authorizations[clientId] = { sid, grantId,
  // persistsLogout }, a grant's clientId, tokens' grantId.
  describe('provider rows', () => {
    const rows = () => createProviderRows({ prisma: db.prisma });
    const now = () => Math.floor(Date.now() / 1000);
    /** A client, with a back-channel logout URI when `logout`. */
    const client = async (logout: boolean) => {
      const clientId = id();
      await db.prisma.client.create({ data: { id: clientId, definition: logout ? { backchannel_logout_uri: `https://${clientId}.example.com/logout` } : {} } });
      return clientId;
    };
    /** A session of `accountId` signed in to `clients` (each with its grant and tokens), as oidc-provider saves one. */
    const session = async (accountId: string, clients: { clientId: string; persistsLogout?: boolean }[], { ttl = 600, device = true } = {}) => {
      const [jti, uid] = [id(), id()];
      const authorizations: Record<string, { sid: string; grantId: string; persistsLogout?: boolean }> = {};
      const grants: Record<string, { grantId: string; access: string; refresh: string }> = {};
      for (const { clientId, persistsLogout } of clients) {
        const [grantId, access, refresh, sid] = [id(), id(), id(), id()];
        authorizations[clientId] = { sid, grantId, ...(persistsLogout ? { persistsLogout } : {}) };
        grants[clientId] = { grantId, access, refresh };
        await adapter('Grant').upsert(grantId, { jti: grantId, accountId, clientId, kind: 'Grant' }, 3600);
        await adapter('AccessToken').upsert(access, { jti: access, accountId, clientId, grantId, sessionUid: uid }, 3600);
        await adapter('RefreshToken').upsert(refresh, { jti: refresh, accountId, clientId, grantId, sessionUid: uid }, 3600);
      }
      await adapter('Session').upsert(jti, { jti, uid, accountId, loginTs: now(), amr: ['pwd'], authorizations, kind: 'Session' }, ttl);
      if (device) await db.prisma.sessionDevice.create({ data: { sessionUid: uid, accountId, userAgent: 'Test/1.0', ip: '192.0.2.7' } });
      return { jti, uid, authorizations, grants };
    };
    const logoutsOf = (sub: string) => db.prisma.backchannelLogout.findMany({ where: { sub }, select: { clientId: true, sid: true }, orderBy: { id: 'asc' } });
    const endedEvents = async (sub: string) =>
      (await db.prisma.webhookEvent.findMany({ where: { type: 'session.ended' } })).map((event) => (event.payload as { data: { sub: string; sid: string; reason: string } }).data).filter((data) => data.sub === sub);

    it('lists an account’s live sessions with the apps in them and their device, and finds one by an app’s sid', async () => {
      const [account, other, wiki, crm] = [id(), id(), await client(true), await client(false)];
      const one = await session(account, [{ clientId: wiki }, { clientId: crm }]);
      const two = await session(account, [], { device: false });
      await session(other, [{ clientId: wiki }]);
      await session(account, [{ clientId: wiki }], { ttl: 1 });
      await sleep(1100);

      const listed = await rows().sessionsOf(account);
      expect(listed.map((s) => s.uid).sort()).toEqual([one.uid, two.uid].sort());
      expect(listed.find((s) => s.uid === one.uid)).toEqual({
        uid: one.uid,
        loginTs: expect.any(Date),
        expiresAt: expect.any(Date),
        amr: ['pwd'],
        clientIds: [wiki, crm].sort(),
        device: { userAgent: 'Test/1.0', ip: '192.0.2.7', lastSeenAt: expect.any(Date) },
      });
      expect(listed.find((s) => s.uid === two.uid)).toMatchObject({ clientIds: [], device: null });

      expect(await rows().findSession(account, { clientId: crm, sid: one.authorizations[crm]!.sid })).toBe(one.uid);
      expect(await rows().findSession(account, { clientId: wiki, sid: one.authorizations[crm]!.sid })).toBeNull();
      expect(await rows().findSession(other, { clientId: crm, sid: one.authorizations[crm]!.sid })).toBeNull();
    });

    it('ends one session, or all but one, in one transaction: logouts queued for apps with a back-channel URI, session.ended, device and sign-out grants gone', async () => {
      const [account, wiki, crm] = [id(), await client(true), await client(false)];
      const kept = await session(account, [{ clientId: wiki }]);
      const ended = await session(account, [{ clientId: wiki }, { clientId: crm, persistsLogout: true }]);

      expect(await rows().endSessions(account, { except: kept.uid, reason: 'revoked' })).toBe(1);
      expect(await logoutsOf(account)).toEqual([{ clientId: wiki, sid: ended.authorizations[wiki]!.sid }]);
      expect(await endedEvents(account)).toEqual([{ sub: account, sid: ended.uid, client_id: null, reason: 'revoked' }]);
      expect(await db.prisma.sessionDevice.findUnique({ where: { sessionUid: ended.uid } })).toBeNull();
      expect(await adapter('Session').find(ended.jti)).toBeUndefined();
      // As oidc-provider's own sign-out: grants without offline access go with the session, with their tokens.
      expect(await adapter('Grant').find(ended.grants[wiki]!.grantId)).toBeUndefined();
      expect(await adapter('RefreshToken').find(ended.grants[wiki]!.refresh)).toBeUndefined();
      expect(await adapter('Grant').find(ended.grants[crm]!.grantId)).toBeDefined();
      expect(await adapter('RefreshToken').find(ended.grants[crm]!.refresh)).toBeDefined();
      expect(await adapter('Session').find(kept.jti)).toBeDefined();
      expect(await adapter('Grant').find(kept.grants[wiki]!.grantId)).toBeDefined();

      expect(await rows().endSessions(account, { only: kept.uid, reason: 'logout', revokeRefreshTokens: true })).toBe(1);
      expect(await rows().sessionsOf(account)).toEqual([]);
      expect(await adapter('RefreshToken').find(ended.grants[crm]!.refresh)).toBeUndefined();
      expect(await adapter('AccessToken').find(ended.grants[crm]!.access)).toBeDefined();
      expect(await logoutsOf(account)).toHaveLength(2);
    });

    it('revokes an app’s grants and tokens, an account’s refresh tokens, or everything of an account', async () => {
      const [account, other, wiki, crm] = [id(), id(), await client(false), await client(false)];
      const mine = await session(account, [{ clientId: wiki, persistsLogout: true }, { clientId: crm, persistsLogout: true }]);
      const theirs = await session(other, [{ clientId: wiki, persistsLogout: true }]);

      await rows().revokeApp(account, wiki);
      for (const model of ['Grant', 'AccessToken', 'RefreshToken'] as const) {
        const key = { Grant: 'grantId', AccessToken: 'access', RefreshToken: 'refresh' } as const;
        expect(await adapter(model).find(mine.grants[wiki]![key[model]])).toBeUndefined();
        expect(await adapter(model).find(mine.grants[crm]![key[model]])).toBeDefined();
        expect(await adapter(model).find(theirs.grants[wiki]![key[model]])).toBeDefined();
      }
      expect(await rows().revokeRefreshTokens(account)).toBe(1);
      expect(await adapter('RefreshToken').find(mine.grants[crm]!.refresh)).toBeUndefined();
      expect(await adapter('AccessToken').find(mine.grants[crm]!.access)).toBeDefined();

      await db.prisma.$transaction(revokeEverythingOf(db.prisma, account));
      expect(await db.prisma.oidcPayload.count({ where: { accountId: account } })).toBe(0);
      expect(await db.prisma.sessionDevice.count({ where: { accountId: account } })).toBe(0);
      expect(await adapter('Session').find(theirs.jti)).toBeDefined();
      expect(await endedEvents(account)).toEqual([{ sub: account, sid: mine.uid, client_id: null, reason: 'revoked' }]);
    });

    it('sees and ends sessions a request still holds, and a held save never brings one back', async () => {
      const [account, wiki] = [id(), await client(true)];
      const before = await session(account, [{ clientId: wiki }]);
      const [jti, uid, sid] = [id(), id(), id()];
      await inOneRequest(() =>
        writeBeforeAnswer({} as Koa.Context, async () => {
          // Held until the answer: a sign-in saving its session, another touching one.
          await adapter('Session').upsert(jti, { jti, uid, accountId: account, loginTs: now(), authorizations: { [wiki]: { sid } } }, 600);
          await adapter('Session').upsert(before.jti, { jti: before.jti, uid: before.uid, accountId: account, loginTs: now(), authorizations: before.authorizations, touched: 1 }, 600);
          expect((await rows().sessionsOf(account)).map((s) => s.uid).sort()).toEqual([uid, before.uid].sort());
          expect(await rows().findSession(account, { clientId: wiki, sid })).toBe(uid);
          expect(await rows().endSessions(account, { reason: 'revoked' })).toBe(2);
          expect(await adapter('Session').find(jti)).toBeUndefined();
        }),
      );
      expect(await adapter('Session').find(jti)).toBeUndefined();
      expect(await adapter('Session').find(before.jti)).toBeUndefined();
      expect((await logoutsOf(account)).map((row) => row.sid).sort()).toEqual([sid, before.authorizations[wiki]!.sid].sort());

      // A destroy held by the request: the session is not listed, nor ended twice.
      const later = await session(account, [{ clientId: wiki }]);
      await inOneRequest(() =>
        writeBeforeAnswer({} as Koa.Context, async () => {
          await adapter('Session').destroy(later.jti);
          expect(await rows().sessionsOf(account)).toEqual([]);
          expect(await rows().endSessions(account, { reason: 'revoked' })).toBe(0);
        }),
      );
    });

    it('lets a sign-in at its login step go on without its ended session, and proposes an address to it, also while the request holds it', async () => {
      const [account, interaction, grantId] = [id(), id(), id()];
      const payload = { jti: interaction, prompt: { name: 'login', reasons: [], details: {} }, params: { client_id: 'wiki' }, session: { uid: id(), accountId: account }, grantId } as AdapterPayload;
      await inOneRequest(() =>
        writeBeforeAnswer({} as Koa.Context, async () => {
          await adapter('Interaction').upsert(interaction, payload, 600);
          expect(await keepSignInGoing(db.prisma, interaction, id())).toBe(false);
          expect(await keepSignInGoing(db.prisma, interaction, account)).toBe(true);
          await proposeAddress(db.prisma, interaction, 'zoe@example.com');
          expect(await adapter('Interaction').find(interaction)).toEqual({ jti: interaction, prompt: { name: 'login', reasons: [], details: {} }, params: { client_id: 'wiki', login_hint: 'zoe@example.com' } });
        }),
      );
      expect(await adapter('Interaction').find(interaction)).toEqual({ jti: interaction, prompt: { name: 'login', reasons: [], details: {} }, params: { client_id: 'wiki', login_hint: 'zoe@example.com' } });
      expect((await db.prisma.oidcPayload.findUnique({ where: { model_id: { model: 'Interaction', id: interaction } } }))!.grantId).toBeNull();

      const consent = id();
      await adapter('Interaction').upsert(consent, { jti: consent, prompt: { name: 'consent', reasons: [], details: {} }, params: {}, session: { accountId: account } } as AdapterPayload, 600);
      expect(await keepSignInGoing(db.prisma, consent, account)).toBe(false);
      await proposeAddress(db.prisma, consent, 'zoe@example.com');
      expect(await adapter('Interaction').find(consent)).toEqual({ jti: consent, prompt: { name: 'consent', reasons: [], details: {} }, params: {}, session: { accountId: account } });
    });

    it('ends expired sessions in the cleanup like any other: logouts queued, session.ended, devices gone', async () => {
      const [account, wiki] = [id(), await client(true)];
      const expired = await session(account, [{ clientId: wiki }], { ttl: 1 });
      const live = await session(account, [{ clientId: wiki }]);
      await sleep(1100);
      await deleteExpiredPayloads(db.prisma);
      expect(await logoutsOf(account)).toEqual([{ clientId: wiki, sid: expired.authorizations[wiki]!.sid }]);
      expect(await endedEvents(account)).toEqual([{ sub: account, sid: expired.uid, client_id: null, reason: 'expired' }]);
      expect(await db.prisma.sessionDevice.findUnique({ where: { sessionUid: expired.uid } })).toBeNull();
      expect(await db.prisma.sessionDevice.findUnique({ where: { sessionUid: live.uid } })).not.toBeNull();
      // Grants outlive an expired session (their own lifetime), as in oidc-provider.
      expect(await adapter('Grant').find(expired.grants[wiki]!.grantId)).toBeDefined();
    });
  });
});
