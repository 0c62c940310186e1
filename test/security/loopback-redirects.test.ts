// Finding 8 of issue 8: http://localhost/… and http://127.0.0.1/… redirect URIs were accepted for
// confidential (web) clients. Loopback redirects are for native apps (RFC 8252 §7.3): any
// program on the person's machine may listen there. They are now refused for a confidential
// client unless it is marked for development, which production refuses, in the CLI and at start;
// and a client registered before the rule cannot use one at sign-in.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { beginSignIn, discover } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';
import { expectRefused, parsed, runAdmin } from '../support/admin-cli.ts';

const LOOPBACK_REFUSED = /loopback address, for native apps only \(RFC 8252\)/;
const PRODUCTION_REFUSED = /refused with NODE_ENV=production/;

describe.each(STORES)('loopback redirect URIs of confidential clients on %s', (kind) => {
  let store: TestStore;
  let cwd: string;
  let server: TestServer | undefined;
  const admin = (...args: string[]) => runAdmin(store.env, cwd, args);
  const inProduction = (...args: string[]) => runAdmin({ ...store.env, NODE_ENV: 'production', ISSUER: 'https://login.example.com' }, cwd, args);
  const clientDir = (files: Record<string, unknown>) => {
    const dir = mkdtempSync(join(cwd, 'clients-'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(body));
    return dir;
  };

  beforeAll(async () => {
    store = await createTestStore(kind);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-loopback-'));
  });
  afterAll(async () => {
    await server?.stop();
    await store?.dispose();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  // Each CLI run is a process of its own, opening the database: allow for a busy machine.
  const SLOW = { timeout: 600_000 };

  it('refuses a loopback redirect or post-logout URI for a confidential client, from the CLI and from a client file', SLOW, async () => {
    expectRefused(await admin('clients', 'add', '--name', 'Web app', '--redirect-uri', 'http://localhost:4000/cb'), LOOPBACK_REFUSED, 1);
    expectRefused(
      await admin('clients', 'add', '--name', 'Web app', '--redirect-uri', 'https://app.example.com/cb', '--post-logout-redirect-uri', 'http://127.0.0.1:4000/'),
      LOOPBACK_REFUSED,
      1,
    );
    const dir = clientDir({ 'web.json': { client_name: 'Web app', redirect_uris: ['http://[::1]:4000/cb'] } });
    expectRefused(await admin('clients', 'sync', dir), LOOPBACK_REFUSED, 1);
  });

  it('accepts them for a client marked --development, and says so in show, list and their JSON', SLOW, async () => {
    const added = parsed(await admin('clients', 'add', '--name', 'Web app on a laptop', '--id', 'dev-web', '--development', '--redirect-uri', 'http://localhost:4000/cb', '--json'));
    expect(added).toMatchObject({ client_id: 'dev-web', type: 'confidential', development: true, redirect_uris: ['http://localhost:4000/cb'] });
    expect((await admin('clients', 'show', 'dev-web')).stdout).toMatch(/^development:\s+YES: loopback redirect URIs allowed for a confidential app; refused with NODE_ENV=production$/m);
    expect((await admin('clients', 'list')).stdout).toMatch(/^dev-web\s+Web app on a laptop\s+confidential \(development\)\s/m);

    const dir = clientDir({ 'dev-files.json': { client_name: 'Web app from a file', development: true, redirect_uris: ['http://127.0.0.1:4001/cb'] } });
    expect(parsed(await admin('clients', 'sync', dir, '--json'))).toMatchObject([{ action: 'create', clientId: 'dev-files' }]);
    const listed = parsed<{ client_id: string; development: boolean }[]>(await admin('clients', 'list', '--json'));
    expect(listed.map(({ client_id, development }) => [client_id, development])).toEqual([['dev-web', true], ['dev-files', true]]);
  });

  it('refuses development clients with NODE_ENV=production: in the CLI, in client files, and at server start while one is enabled', SLOW, async () => {
    expectRefused(await inProduction('clients', 'add', '--name', 'Web app', '--development', '--redirect-uri', 'http://localhost:4000/cb'), PRODUCTION_REFUSED, 1);
    const dir = clientDir({ 'prod-dev.json': { client_name: 'Web app', development: true, redirect_uris: ['http://localhost:4000/cb'] } });
    expectRefused(await inProduction('clients', 'sync', dir), PRODUCTION_REFUSED, 1);

    await expect(startServer(store, { NODE_ENV: 'production' })).rejects.toThrow(/clients marked for development cannot be served with NODE_ENV=production: dev-web, dev-files/);
    for (const id of ['dev-web', 'dev-files']) expect((await inProduction('clients', 'disable', id)).code).toBe(0);
    const production = await startServer(store, { NODE_ENV: 'production' });
    await production.stop();
  });

  it('refuses, at sign-in, the loopback redirect URI of a confidential client registered before the rule, on a page; a development client still uses its own', SLOW, async () => {
    server = await startServer(store);
    const { clients } = server.sesame;
    const legacy = await clients.add({ client_name: 'Old web app', client_id: 'old-web', development: true, redirect_uris: ['http://localhost:4002/cb'] });
    const dev = await clients.add({ client_name: 'New web app', client_id: 'new-web', development: true, redirect_uris: ['http://localhost:4003/cb'] });
    // As it was stored before clients could be marked for development.
    await server.db.prisma.$executeRaw`UPDATE clients SET definition = definition - 'development' WHERE id = 'old-web'`;

    const browser = new Browser(server.issuer);
    const old = await browser.open((await beginSignIn(await discover(server.issuer, 'old-web', legacy.secret), 'http://localhost:4002/cb')).url);
    expect(old.stoppedAt).toBeUndefined();
    expect(old.status).toBe(400);
    expect(browser.trail.some(({ url }) => url.startsWith('http://localhost:4002'))).toBe(false);

    const fresh = await browser.open((await beginSignIn(await discover(server.issuer, 'new-web', dev.secret), 'http://localhost:4003/cb')).url);
    expect(fresh.status).toBe(200);
    expect(fresh.doc.querySelector('input[name="password"]')).not.toBeNull();
  });
});
