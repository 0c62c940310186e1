// `admin apis …` and the client flags of issue 7 (--allow-scope, --allow-missing-pkce), run as an
// operator runs them: a separate Node process on the same database as a running server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover, oauthError, oidc } from './support/rp.ts';
import { startServer } from './support/server.ts';
import type { TestServer } from './support/server.ts';
import { createTestStore, STORES } from './support/stores.ts';
import type { TestStore } from './support/stores.ts';
import { expectRefused, parsed, runAdmin } from './support/admin-cli.ts';

const ORDERS = 'https://orders.example.test';

describe.each(STORES)('admin CLI for APIs on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  let cwd: string;
  let secrets: Record<string, string>;
  const admin = (...args: string[]) => runAdmin(store.env, cwd, args);
  const apiIds = async () => parsed<{ id: string }[]>(await admin('apis', 'list', '--json')).map((api) => api.id);

  beforeAll(async () => {
    store = await createTestStore(kind);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-cli-apis-'));
    // No caches, so that a change made by the CLI is seen on the next request.
    server = await startServer(store, { CLIENT_CACHE_TTL: '0' });
    secrets = {};
    for (const [id, ...flags] of [
      ['shop', '--redirect-uri', 'https://shop.example.test/cb'],
      ['batch', '--grant', 'client_credentials'],
      ['orders-api', '--grant', 'client_credentials'],
      ['kiosk', '--public', '--redirect-uri', 'http://127.0.0.1:5180/cb'],
    ]) {
      secrets[id!] = parsed(await admin('clients', 'add', '--name', id!, '--id', id!, ...flags, '--json')).client_secret;
    }
  });
  afterAll(async () => {
    await server?.stop();
    await store?.dispose();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('lists apis among the commands, with their options', async () => {
    const help = await admin('apis', '--help');
    expect(help.stdout).toMatch(/Commands:\s+add \[options\][\s\S]*list[\s\S]*show[\s\S]*allow[\s\S]*deny[\s\S]*remove/);
    expect((await admin('apis', 'add', '--help')).stdout).toMatch(/--scope <scope>[\s\S]*--client <client-id>[\s\S]*--server-client <client-id>[\s\S]*--access-token-ttl <duration>/);
  });

  it('registers an API, which a client it allows then gets JWT access tokens for', async () => {
    const added = parsed(await admin('apis', 'add', '--id', ORDERS, '--name', 'Orders API', '--scope', 'orders:read', '--scope', 'orders:write', '--client', 'batch', '--access-token-ttl', '5m', '--json'));
    expect(added).toMatchObject({ id: ORDERS, name: 'Orders API', scopes: ['orders:read', 'orders:write'], client_ids: ['batch'], server_client_id: null, access_token_format: 'jwt', access_token_ttl: 300 });

    const batch = await discover(server.issuer, 'batch', secrets.batch);
    const { access_token } = await oidc.clientCredentialsGrant(batch, { resource: ORDERS, scope: 'orders:read' });
    const claims = decodeJwt(access_token);
    expect(claims).toMatchObject({ aud: ORDERS, client_id: 'batch', scope: 'orders:read' });
    expect(claims.exp! - claims.iat!).toBe(300);

    const shown = await admin('apis', 'show', ORDERS);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^name:\s+Orders API$/m);
    expect(shown.stdout).toMatch(/^allowed clients:\s+batch$/m);
    expect(shown.stdout).toMatch(/^token lifetime:\s+300 s$/m);
    expect(parsed(await admin('apis', 'show', ORDERS, '--json'))).toEqual(added);
    expect((await admin('apis', 'list')).stdout).toMatch(/^https:\/\/orders\.example\.test\s+Orders API\s+orders:read orders:write\s+batch\s+-\s+jwt$/m);
  });

  it('allows and denies clients, refusing unknown ones', async () => {
    expect(parsed(await admin('apis', 'allow', ORDERS, 'shop', '--json')).client_ids).toEqual(['batch', 'shop']);
    expectRefused(await admin('apis', 'allow', ORDERS, 'nobody'), /no client with id "nobody"/, 1);
    expect(parsed(await admin('apis', 'deny', ORDERS, 'batch', '--json')).client_ids).toEqual(['shop']);
    expectRefused(await admin('apis', 'deny', ORDERS, 'batch'), /not allowed/, 1);
    const batch = await discover(server.issuer, 'batch', secrets.batch);
    expect(await oauthError(oidc.clientCredentialsGrant(batch, { resource: ORDERS }))).toBe('invalid_target');

    // A client removed after it was allowed can still be denied.
    parsed(await admin('clients', 'add', '--name', 'gone', '--id', 'gone', '--grant', 'client_credentials', '--json'));
    parsed(await admin('apis', 'allow', ORDERS, 'gone', '--json'));
    parsed(await admin('clients', 'remove', 'gone', '--yes', '--json'));
    expect(parsed(await admin('apis', 'deny', ORDERS, 'gone', '--json')).client_ids).toEqual(['shop']);
  });

  it('refuses what cannot be an API, writing nothing', async () => {
    const before = await apiIds();
    const add = (...flags: string[]) => admin('apis', 'add', '--name', 'Bad', ...flags);
    expectRefused(await add('--id', 'http://api.example.test'), /must use https/, 1);
    expectRefused(await add('--id', 'https://api.example.test/#x'), /fragment/, 1);
    expectRefused(await add('--id', 'https://api.example.test/?v=1'), /query/, 1);
    expectRefused(await add('--id', 'orders'), /absolute URI/, 1);
    expectRefused(await add('--id', 'https://api.example.test', '--scope', 'openid'), /Sésame's own scopes/, 1);
    expectRefused(await add('--id', 'https://api.example.test', '--scope', 'two words'), /without spaces/, 1);
    expectRefused(await add('--id', 'https://api.example.test', '--client', 'nobody'), /no client with id "nobody"/, 1);
    expectRefused(await add('--id', 'https://api.example.test', '--server-client', 'kiosk'), /public client/, 1);
    expectRefused(await add('--id', 'https://api.example.test', '--access-token-ttl', 'soon'), /not a duration/, 2);
    expectRefused(await add('--id', ORDERS), /already exists/, 1);
    expect(await apiIds()).toEqual(before);
    // Loopback http is fine for development.
    parsed(await add('--id', 'http://localhost:4000/api', '--json'));
  });

  it('gives an API with a server client opaque tokens, which that client introspects', async () => {
    const ledger = 'https://ledger.example.test';
    const added = parsed(await admin('apis', 'add', '--id', ledger, '--name', 'Ledger', '--scope', 'ledger:read', '--client', 'batch', '--server-client', 'orders-api', '--json'));
    expect(added).toMatchObject({ server_client_id: 'orders-api', access_token_format: 'opaque (introspected)' });
    const batch = await discover(server.issuer, 'batch', secrets.batch);
    const { access_token } = await oidc.clientCredentialsGrant(batch, { resource: ledger });
    const api = await discover(server.issuer, 'orders-api', secrets['orders-api']);
    expect(await oidc.tokenIntrospection(api, access_token)).toMatchObject({ active: true, aud: ledger });
  });

  it('removes an API only with --yes', async () => {
    expectRefused(await admin('apis', 'remove', ORDERS), /--yes/, 2);
    expect(await apiIds()).toContain(ORDERS);
    expect(parsed(await admin('apis', 'remove', ORDERS, '--yes', '--json'))).toEqual({ id: ORDERS, removed: true });
    expect(await apiIds()).not.toContain(ORDERS);
    expectRefused(await admin('apis', 'show', ORDERS), /no API with id/, 1);
  });

  it('registers a client allowed users:read, which then gets it with client credentials', async () => {
    const made = parsed(await admin('clients', 'add', '--name', 'Directory sync', '--id', 'directory-sync', '--grant', 'client_credentials', '--allow-scope', 'users:read', '--json'));
    expect(made).toMatchObject({ allowed_scopes: ['users:read'], allow_missing_pkce: false });
    expect((await admin('clients', 'show', 'directory-sync')).stdout).toMatch(/^allowed API scopes:\s+users:read$/m);
    const sync = await discover(server.issuer, 'directory-sync', made.client_secret);
    expect((await oidc.clientCredentialsGrant(sync, { scope: 'users:read' })).scope).toBe('users:read');
    const batch = await discover(server.issuer, 'batch', secrets.batch);
    expect(await oauthError(oidc.clientCredentialsGrant(batch, { scope: 'users:read' }))).toBe('invalid_scope');

    expectRefused(await admin('clients', 'add', '--name', 'X', '--grant', 'client_credentials', '--allow-scope', 'users:write'), /unknown scope "users:write"/, 2);
    expectRefused(await admin('clients', 'add', '--name', 'X', '--redirect-uri', 'https://x.example.test/cb', '--allow-scope', 'users:read'), /client_credentials/, 1);
  });

  it('registers a confidential client that may skip PKCE, never a public one', async () => {
    const legacy = parsed(await admin('clients', 'add', '--name', 'Old wiki', '--id', 'old-wiki', '--redirect-uri', 'https://old.example.test/cb', '--allow-missing-pkce', '--json'));
    expect(legacy.allow_missing_pkce).toBe(true);
    expect((await admin('clients', 'show', 'old-wiki')).stdout).toMatch(/^missing PKCE:\s+ALLOWED/m);
    expect((await admin('clients', 'show', 'shop')).stdout).toMatch(/^missing PKCE:\s+refused/m);
    expectRefused(await admin('clients', 'add', '--name', 'Old SPA', '--public', '--redirect-uri', 'http://127.0.0.1:5181/cb', '--allow-missing-pkce'), /public client always needs PKCE/, 1);
  });

  it('records every change in the audit log', async () => {
    const events = await server.db.prisma.auditEvent.findMany({ where: { action: { startsWith: 'api.' } }, orderBy: { id: 'asc' } });
    expect(events.map((event) => [event.action, event.target])).toEqual([
      ['api.add', ORDERS],
      ['api.allow', ORDERS],
      ['api.deny', ORDERS],
      ['api.allow', ORDERS],
      ['api.deny', ORDERS],
      ['api.add', 'http://localhost:4000/api'],
      ['api.add', 'https://ledger.example.test'],
      ['api.remove', ORDERS],
    ]);
    const clientAdds = await server.db.prisma.auditEvent.findMany({ where: { action: 'client.add', target: { in: ['directory-sync', 'old-wiki'] } }, orderBy: { id: 'asc' } });
    expect(clientAdds.map((event) => event.details)).toEqual([
      { name: 'Directory sync', allowedScopes: ['users:read'] },
      { name: 'Old wiki', allowMissingPkce: true },
    ]);
  });
});
