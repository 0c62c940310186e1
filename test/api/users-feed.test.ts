// The users feed as a relying app's back end reads it: a client-credentials token with
// users:read from openid-client, then plain HTTP on /api/v1/users.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

interface Page {
  data: Record<string, unknown>[];
  next_cursor: string | null;
  has_more: boolean;
}

const FIELDS = ['sub', 'email', 'email_verified', 'given_name', 'family_name', 'name', 'picture', 'roles', 'disabled', 'external_id', 'created_at', 'updated_at'];

describe.each(STORES)('users feed on %s', (kind) => {
  let f: Fixture;
  let reader: { id: string; secret: string };
  let token: string;

  beforeAll(async () => {
    // No settle delay: every change is listed at once (the delay itself is tested below).
    f = await startFixture(kind, { USERS_FEED_SETTLE: '0' });
    reader = await addReader('Directory sync');
    token = await clientToken(reader, 'users:read');
    for (let i = 0; i < 9; i++) await f.server.sesame.users.create({ email: `person${i}@example.com`, password: PASSWORD, givenName: `P${i}` });
  });
  afterAll(() => f?.stop());

  /** A back-end app an admin allowed to read the users feed. */
  async function addReader(name: string) {
    const added = await f.server.sesame.clients.add({
      client_name: name,
      redirect_uris: [],
      post_logout_redirect_uris: [],
      grant_types: ['client_credentials'],
      public: false,
      first_party: false,
      allowed_scopes: ['users:read'],
    });
    return { id: added.client.clientId, secret: added.secret! };
  }

  async function clientToken(client: { id: string; secret: string }, scope?: string): Promise<string> {
    const config = await discover(f.issuer, client.id, client.secret);
    return (await oidc.clientCredentialsGrant(config, scope ? { scope } : {})).access_token;
  }

  async function get(path: string, bearer: string | null = token) {
    const response = await fetch(`${f.issuer}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  async function page(query = ''): Promise<Page> {
    const { status, body } = await get(`/api/v1/users${query}`);
    expect(status, JSON.stringify(body)).toBe(200);
    return body as Page;
  }

  /** Every page from `since` on, as a reconcile job reads them. */
  async function readAll(limit: number, since?: string) {
    const seen: Record<string, unknown>[] = [];
    let cursor = since;
    for (let pages = 0; pages < 100; pages++) {
      const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { since: cursor } : {}) });
      const body = await page(`?${query}`);
      seen.push(...body.data);
      cursor = body.next_cursor ?? undefined;
      if (!body.has_more) return { seen, cursor };
    }
    throw new Error('the feed never ended');
  }

  it('lists every account exactly once across pages, in the shape apps expect', async () => {
    const { seen, cursor } = await readAll(4);
    const all = await f.server.db.prisma.user.findMany();
    expect(seen.map((user) => user.sub).sort()).toEqual(all.map((user) => user.id).sort());
    expect(new Set(seen.map((user) => user.sub)).size).toBe(seen.length);
    const alice = seen.find((user) => user.sub === f.alice.id)!;
    expect(Object.keys(alice).sort()).toEqual([...FIELDS].sort());
    expect(alice).toMatchObject({ email: 'Alice@Example.com', email_verified: true, name: 'Alice Liddell', roles: ['member'], disabled: false, external_id: null });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const updated = seen.map((user) => String(user.updated_at));
    expect(updated).toEqual([...updated].sort());
  });

  it('never shows a password hash or any secret', async () => {
    const text = JSON.stringify([await page('?limit=500'), (await get(`/api/v1/users/${f.alice.id}`)).body]);
    expect(text).not.toMatch(/argon2|password|\$2[aby]\$/i);
  });

  it('gives an empty page and the same cursor back when nothing changed', async () => {
    const { cursor } = await readAll(500);
    const again = await page(`?since=${cursor}`);
    expect(again).toEqual({ data: [], next_cursor: cursor, has_more: false });
  });

  it('moves a changed account to the end: the stored cursor returns it, and only it', async () => {
    const { cursor } = await readAll(500);
    const person = (await f.server.sesame.users.findByEmail('person3@example.com'))!;
    await f.server.sesame.users.setNames(person.id, { givenName: 'Renamed', familyName: 'Person' });
    const since = await page(`?since=${cursor}`);
    expect(since.data).toHaveLength(1);
    expect(since.data[0]).toMatchObject({ sub: person.id, given_name: 'Renamed', name: 'Renamed Person' });
    expect(since.next_cursor).not.toBe(cursor);
    expect((await page(`?since=${since.next_cursor}`)).data).toEqual([]);
  });

  it('lists a removed account as a tombstone, so apps delete their copy', async () => {
    const { cursor } = await readAll(500);
    const person = (await f.server.sesame.users.findByEmail('person5@example.com'))!;
    await f.server.sesame.users.remove(person.id);
    const since = await page(`?since=${cursor}`);
    expect(since.data).toEqual([{ sub: person.id, external_id: null, deleted: true, updated_at: expect.any(String) }]);
    const one = await get(`/api/v1/users/${person.id}`);
    expect(one.status).toBe(404);
    expect(one.body.error).toBe('not_found');
  });

  it('holds back a change younger than the settle delay (a late commit is never skipped)', async () => {
    const person = (await f.server.sesame.users.findByEmail('person7@example.com'))!;
    await f.server.db.prisma.$executeRaw`UPDATE users SET updated_at = now() + interval '1 hour' WHERE id = ${person.id}`;
    const { seen } = await readAll(500);
    expect(seen.map((user) => user.sub)).not.toContain(person.id);
    await f.server.db.prisma.$executeRaw`UPDATE users SET updated_at = now() WHERE id = ${person.id}`;
  });

  it('returns one account by sub, and a clean 404 for an unknown one', async () => {
    const one = await get(`/api/v1/users/${f.alice.id}`);
    expect(one.status).toBe(200);
    expect(one.headers.get('cache-control')).toBe('no-store');
    expect(one.body).toMatchObject({ sub: f.alice.id, email: 'Alice@Example.com', given_name: 'Alice', family_name: 'Liddell' });
    const unknown = await get('/api/v1/users/00000000-0000-4000-8000-000000000000');
    expect(unknown).toMatchObject({ status: 404, body: { error: 'not_found', error_description: expect.any(String) } });
  });

  describe('refuses callers the OAuth way (RFC 6750)', () => {
    it('401 without a token, with a challenge and no error code', async () => {
      const { status, headers, body } = await get('/api/v1/users', null);
      expect(status).toBe(401);
      expect(headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+"$/);
      expect(headers.get('cache-control')).toBe('no-store');
      expect(body.error).toBe('invalid_token');
    });

    it.each([['an unknown token', 'not-a-token'], ['a token made up to look real', 'A'.repeat(43)]])('401 invalid_token with %s', async (_name, bearer) => {
      const { status, headers, body } = await get('/api/v1/users', bearer);
      expect(status).toBe(401);
      expect(headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
      expect(body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
    });

    it('401 with an expired token', async () => {
      const expiring = await clientToken(reader, 'users:read');
      expect((await get('/api/v1/users/' + f.alice.id, expiring)).status).toBe(200);
      const past = new Date(Date.now() - 60_000);
      const rows = await f.server.db.prisma.oidcPayload.findMany({ where: { model: 'ClientCredentials' } });
      for (const row of rows) {
        await f.server.db.prisma.oidcPayload.update({
          where: { model_id: { model: row.model, id: row.id } },
          data: { expiresAt: past, payload: { ...(row.payload as object), exp: Math.floor(past.getTime() / 1000) } },
        });
      }
      expect((await get('/api/v1/users', expiring)).status).toBe(401);
      token = await clientToken(reader, 'users:read');
    });

    it('401 once the token’s client is disabled', async () => {
      const other = await addReader('Short-lived sync');
      const held = await clientToken(other, 'users:read');
      expect((await get('/api/v1/users?limit=1', held)).status).toBe(200);
      await f.server.sesame.clients.setDisabled(other.id, true);
      await expect.poll(async () => (await get('/api/v1/users?limit=1', held)).status).toBe(401);
    });

    it('403 once users:read is withdrawn from the app, for the tokens it already holds', async () => {
      const other = await addReader('Withdrawn sync');
      const held = await clientToken(other, 'users:read');
      expect((await get('/api/v1/users?limit=1', held)).status).toBe(200);
      const { definition } = await f.server.sesame.clients.get(other.id);
      await f.server.sesame.clients.update(other.id, { ...definition, allowed_scopes: [] });
      await expect.poll(async () => (await get('/api/v1/users?limit=1', held)).status).toBe(403);
    });

    it('403 insufficient_scope for a client credentials token without users:read', async () => {
      const bearer = await clientToken(f.batch);
      const { status, headers, body } = await get('/api/v1/users', bearer);
      expect(status).toBe(403);
      expect(headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="users:read"/);
      expect(body.error).toBe('insufficient_scope');
    });

    it('403 insufficient_scope for a person’s access token from a sign-in', async () => {
      const web = await discover(f.issuer, f.web.id, f.web.secret);
      const flow = await beginSignIn(web, `${RP}/cb`);
      const callback = await signIn(new Browser(f.issuer), flow, f.alice.email, PASSWORD);
      const tokens = await redeem(web, flow, callback);
      const { status, body } = await get(`/api/v1/users/${f.alice.id}`, tokens.access_token);
      expect(status).toBe(403);
      expect(body.error).toBe('insufficient_scope');
    });

    it.each([
      ['a cursor that is not base64url', '?since=not%20a%20cursor'],
      ['a cursor we did not make', `?since=${Buffer.from('yesterday|someone').toString('base64url')}`],
      ['limit 0', '?limit=0'],
      ['limit 501', '?limit=501'],
      ['a limit that is not a number', '?limit=ten'],
      ['limit twice', '?limit=1&limit=2'],
    ])('400 invalid_request for %s', async (_name, query) => {
      const { status, body } = await get(`/api/v1/users${query}`);
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    });
  });
});
