// The admin CLI as an operator runs it: a separate Node process on the same settings and
// database as the server, its answers on stdout and its complaints on stderr.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './support/browser.ts';
import { beginSignIn, discover, oauthError, oidc, signIn } from './support/rp.ts';
import { startServer } from './support/server.ts';
import type { TestServer } from './support/server.ts';
import { createTestStore, STORES } from './support/stores.ts';
import { expectRefused, parsed, runAdmin } from './support/admin-cli.ts';
import type { Run } from './support/admin-cli.ts';
import type { TestStore } from './support/stores.ts';

const RP = 'https://rp.example.test';
const PASSWORD = 'a long enough passphrase';

describe('admin CLI help', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'sesame-cli-'));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it.each([
    [[], /Commands:\s+clients .*\n\s+users .*\n\s+keys /],
    [['clients'], /Commands:\s+add \[options\][\s\S]*sync \[options\] \[dir\]/],
    [['clients', 'add'], /--redirect-uri <uri>[\s\S]*--public/],
    [['clients', 'sync'], /--prune[\s\S]*--dry-run/],
    [['users'], /Commands:\s+add \[options\][\s\S]*consents \[options\] <id-or-email>[\s\S]*forget-consent \[options\] <id-or-email>[\s\S]*remove \[options\] <id-or-email>[\s\S]*disable/],
    [['users', 'forget-consent'], /--client <id>/],
    [['users', 'add'], /--password-stdin/],
    [['keys'], /Commands:\s+list \[options\][\s\S]*rotate/],
    [['keys', 'rotate'], /--activate-in <duration>/],
  ])('%j --help explains itself and exits 0', async (group, content) => {
    const run = await runAdmin({ DATA_DIR: join(cwd, 'unused') }, cwd, [...group, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run admin -- /);
    expect(run.stdout).toMatch(content);
  });

  it('says plainly when the database cannot be reached', async () => {
    const run = await runAdmin({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sesame' }, cwd, ['clients', 'list']);
    expectRefused(run, /^error: cannot use the database \(check DATABASE_URL, or DATA_DIR\): connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
    expect(run.code).toBe(1);
  });

  it('refuses an unknown command with exit code 2', async () => {
    const run = await runAdmin({ DATA_DIR: join(cwd, 'unused') }, cwd, ['clients', 'frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe.each(STORES)('admin CLI on %s', (kind) => {
  let store: TestStore;
  let cwd: string;
  const admin = (...args: string[]) => runAdmin(store.env, cwd, args);
  const adminWithInput = (input: string, ...args: string[]) => runAdmin(store.env, cwd, args, input);
  const clientList = async () => parsed<{ client_id: string; client_name: string; status: string; source: string }[]>(await admin('clients', 'list', '--json'));
  const userList = async () => parsed<{ id: string; email: string; status: string }[]>(await admin('users', 'list', '--json'));

  beforeAll(async () => {
    store = await createTestStore(kind);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-cli-'));
  });
  afterAll(async () => {
    await store?.dispose();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  describe('on its own', () => {
    it('registers a confidential client, showing its id, its secret once and the issuer', async () => {
      const run = await admin('clients', 'add', '--name', 'Team Wiki', '--redirect-uri', 'https://wiki.example.com/cb', '--post-logout-redirect-uri', 'https://wiki.example.com/bye');
      expect(run.code).toBe(0);
      const id = /^client id:\s+(team-wiki-[0-9a-f]{8})$/m.exec(run.stdout)?.[1];
      const secret = /^client secret:\s+([\w-]{43})$/m.exec(run.stdout)?.[1];
      expect(id).toBeDefined();
      expect(secret).toBeDefined();
      expect(run.stdout).toMatch(/^issuer:\s+http:\/\/localhost:3000$/m);
      expect(run.stdout).toMatch(/^redirect URIs:\s+https:\/\/wiki\.example\.com\/cb$/m);
      expect(run.stdout).toContain('The secret is shown only this once');
      expect(run.stdout.split(secret!)).toHaveLength(2);

      const shown = await admin('clients', 'show', id!);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^name:\s+Team Wiki$/m);
      expect(shown.stdout).toMatch(/^type:\s+confidential$/m);
      expect(shown.stdout).not.toContain(secret!);
      expect(shown.stdout).not.toMatch(/secret/i);
      expect(JSON.stringify(await clientList())).not.toContain(secret!);
    });

    it('prints --json alone on stdout', async () => {
      const confidential = parsed(await admin('clients', 'add', '--name', 'Batch', '--id', 'nightly-batch', '--grant', 'client_credentials', '--json'));
      expect(confidential).toMatchObject({
        client_id: 'nightly-batch',
        client_name: 'Batch',
        type: 'confidential',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        status: 'enabled',
        source: 'cli',
        issuer: 'http://localhost:3000',
      });
      expect(confidential.client_secret).toMatch(/^[\w-]{43}$/);

      const pub = parsed(await admin('clients', 'add', '--name', 'Desktop app', '--id', 'desktop-app', '--public', '--first-party', '--redirect-uri', 'http://127.0.0.1:8765/cb', '--json'));
      expect(pub).toMatchObject({ client_id: 'desktop-app', type: 'public', first_party: true, redirect_uris: ['http://127.0.0.1:8765/cb'] });
      expect(pub).not.toHaveProperty('client_secret');
    });

    it('lists and shows clients, for people and as JSON', async () => {
      const all = await clientList();
      expect(all.map((client) => client.client_id)).toEqual(expect.arrayContaining(['nightly-batch', 'desktop-app']));

      const table = await admin('clients', 'list');
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^CLIENT ID\s+NAME\s+TYPE\s+FIRST-PARTY\s+GRANTS\s+STATUS\s+SOURCE$/m);
      expect(table.stdout).toMatch(/^desktop-app\s+Desktop app\s+public\s+yes\s+authorization_code,refresh_token\s+enabled\s+cli$/m);

      const one = parsed(await admin('clients', 'show', 'desktop-app', '--json'));
      expect(one).toEqual(all.find((client) => client.client_id === 'desktop-app'));
    });

    it('removes a client only with --yes', async () => {
      parsed(await admin('clients', 'add', '--name', 'Old app', '--id', 'old-app', '--redirect-uri', 'https://old.example.com/cb', '--json'));
      const unconfirmed = await admin('clients', 'remove', 'old-app');
      expectRefused(unconfirmed, /run again with --yes/);
      expect(unconfirmed.code).toBe(2);
      expect((await clientList()).map((client) => client.client_id)).toContain('old-app');

      const removed = await admin('clients', 'remove', 'old-app', '--yes');
      expect(removed.code).toBe(0);
      expect(removed.stdout).toBe('Client old-app removed.\n');
      expect((await clientList()).map((client) => client.client_id)).not.toContain('old-app');
    });

    it('creates, lists, disables and enables accounts, the password read from stdin', async () => {
      const created = parsed(
        await adminWithInput(`${PASSWORD}\n`, 'users', 'add', '--email', 'Bob@Example.com', '--password-stdin', '--verified', '--given-name', 'Bob', '--family-name', 'Martin', '--json'),
      );
      expect(created).toMatchObject({ email: 'Bob@Example.com', email_verified: true, given_name: 'Bob', family_name: 'Martin', has_password: true, status: 'enabled' });
      expect(JSON.stringify(created)).not.toContain(PASSWORD);

      const table = await admin('users', 'list');
      expect(table.stdout).toMatch(new RegExp(`^${created.id}\\s+Bob@Example\\.com\\s+yes\\s+Bob Martin\\s+member\\s+yes\\s+enabled\\s`, 'm'));

      const disabled = await admin('users', 'disable', 'bob@example.com');
      expect(disabled.stdout).toBe(`Account Bob@Example.com (${created.id}) is now disabled.\n`);
      expect((await userList()).find((user) => user.id === created.id)!.status).toBe('disabled');
      expect(parsed(await admin('users', 'enable', created.id, '--json')).status).toBe('enabled');
    });

    it('returns as soon as its work is done', async () => {
      const started = performance.now();
      expect((await admin('clients', 'list')).code).toBe(0);
      // A command takes one or two seconds; a leftover timer used to hold every one for 10 s more.
      expect(performance.now() - started).toBeLessThan(8000);
    });

    it('reads the settings from .env in its working directory, and refuses bad ones', async () => {
      const dir = mkdtempSync(join(cwd, 'env-'));
      writeFileSync(join(dir, '.env'), 'ISSUER=https://id.example.com\n');
      const added = parsed(await runAdmin(store.env, dir, ['clients', 'add', '--name', 'Env check', '--grant', 'client_credentials', '--json']));
      expect(added.issuer).toBe('https://id.example.com');

      const refused = await runAdmin({ ...store.env, ISSUER: 'ftp://id.example.com', ACCESS_TOKEN_TTL: '-5' }, cwd, ['clients', 'list']);
      expectRefused(refused, /^error: Invalid configuration:\n {2}- ISSUER: must be an http\(s\) URL\n {2}- ACCESS_TOKEN_TTL: /);
    });

    it('lists one active signing key per algorithm, and refuses a bad rotation', async () => {
      const keys = parsed<{ kid: string; alg: string; status: string }[]>(await admin('keys', 'list', '--json'));
      expect(keys.map((key) => [key.alg, key.status]).sort()).toEqual([
        ['ES256', 'active'],
        ['EdDSA', 'active'],
        ['RS256', 'active'],
      ]);
      expectRefused(await admin('keys', 'rotate', '--alg', 'HS256'), /unknown algorithm "HS256"/);
      expectRefused(await admin('keys', 'rotate', '--activate-in', 'soon'), /"soon" is not a duration/);
      expect(parsed(await admin('keys', 'list', '--json'))).toEqual(keys);
    });
  });

  describe('while the server runs on the same store', () => {
    let server: TestServer;
    const jwksKids = async () => ((await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { kid: string; alg: string }[] }).keys;
    const clientCredentials = async (id: string, secret: string) => {
      const config = await discover(server.issuer, id, secret);
      return oidc.clientCredentialsGrant(config, {});
    };

    beforeAll(async () => {
      // No client cache, so that a change made by the CLI is seen on the next request.
      server = await startServer(store, { CLIENT_CACHE_TTL: '0' });
    });
    afterAll(() => server?.stop());

    it('attaches to the server’s database instead of refusing', async () => {
      if (kind === 'pglite') {
        const lock = readFileSync(join((store.source as { dataDir: string }).dataDir, 'sesame.lock'), 'utf8');
        expect(lock).toBe(`${process.pid} server`);
      }
      await server.sesame.clients.add({ client_name: 'Made by the server', client_id: 'server-side', redirect_uris: ['https://s.example.com/cb'], post_logout_redirect_uris: [], grant_types: ['authorization_code'], public: false, first_party: false });
      expect((await clientList()).map((client) => client.client_id)).toContain('server-side');

      parsed(await admin('clients', 'add', '--name', 'Made by the CLI', '--id', 'cli-side', '--redirect-uri', 'https://c.example.com/cb', '--json'));
      expect((await server.sesame.clients.get('cli-side')).definition.client_name).toBe('Made by the CLI');
    });

    it('refuses dangerous or malformed input, writing nothing', async () => {
      const before = await clientList();
      const add = (...flags: string[]) => () => admin('clients', 'add', '--name', 'Evil', ...flags);
      const cases: [() => Promise<Run>, RegExp][] = [
        [add('--redirect-uri', 'https://app.example.com/cb#token'), /redirect_uris\.0: "https:\/\/app\.example\.com\/cb#token" must not contain a fragment/],
        [add('--redirect-uri', 'javascript:alert(1)'), /"javascript:alert\(1\)" uses the scheme "javascript"/],
        [add('--redirect-uri', 'JavaScript:alert(document.cookie)'), /uses the scheme "javascript"/],
        [add('--redirect-uri', 'data:text/html,<script>alert(1)</script>'), /uses the scheme "data"/],
        [add('--redirect-uri', 'http://app.example.com/cb'), /must use https/],
        [add('--redirect-uri', 'https://*.example.com/cb'), /must not contain wildcards/],
        [add('--redirect-uri', 'https://user:pass@app.example.com/cb'), /must not contain a user name or password/],
        [add('--redirect-uri', 'https://app.example.com/cb', '--post-logout-redirect-uri', 'javascript:alert(1)'), /post_logout_redirect_uris\.0: .*scheme "javascript"/],
        [add('--redirect-uri', 'https://app.example.com/cb', '--grant', 'password'), /unknown grant "password"/],
        [add('--public', '--grant', 'client_credentials'), /a public client cannot use client_credentials/],
        [add(), /at least one redirect URI is needed/],
        [add('--id', 'Not An Id', '--redirect-uri', 'https://app.example.com/cb'), /client_id: must be 3 to 64 lower-case/],
        [add('--id', 'desktop-app', '--redirect-uri', 'https://app.example.com/cb'), /a client with id "desktop-app" already exists/],
      ];
      for (const [run, message] of cases) expectRefused(await run(), message);
      expect(await clientList()).toEqual(before);
    });

    it('says so when a client does not exist', async () => {
      for (const command of [['show'], ['rotate-secret'], ['disable'], ['enable'], ['remove', '--yes']]) {
        const [name, ...flags] = command;
        expectRefused(await admin('clients', name!, 'no-such-app', ...flags), /^error: no client with id "no-such-app"\n$/);
      }
    });

    it('syncs a directory of client files: create, unchanged, update, orphaned, prune, dry run', async () => {
      const dir = mkdtempSync(join(cwd, 'clients-'));
      const write = (name: string, body: unknown) => writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
      const sync = async (...flags: string[]) => parsed<{ action: string; clientId: string; file: string; secret?: string }[]>(await admin('clients', 'sync', dir, ...flags, '--json'));
      const fromFiles = async () => (await clientList()).filter((client) => client.source.startsWith('file:'));
      write('billing.json', { client_name: 'Billing', redirect_uris: ['https://billing.example.com/cb'] });
      write('reports.json', { client_name: 'Reports', grant_types: ['client_credentials'] });
      write('console.json', { client_name: 'Console', public: true, redirect_uris: ['http://127.0.0.1:9000/cb'] });
      write('README.md', 'not a client');

      const planned = await sync('--dry-run');
      expect(planned.map(({ action, clientId }) => [action, clientId])).toEqual([
        ['create', 'billing'],
        ['create', 'console'],
        ['create', 'reports'],
      ]);
      expect(await fromFiles()).toEqual([]);

      const created = await sync();
      expect(created.map(({ action, clientId }) => [action, clientId])).toEqual(planned.map(({ action, clientId }) => [action, clientId]));
      expect(created.find((item) => item.clientId === 'billing')!.secret).toMatch(/^[\w-]{43}$/);
      expect(created.find((item) => item.clientId === 'reports')!.secret).toMatch(/^[\w-]{43}$/);
      expect(created.find((item) => item.clientId === 'console')!.secret).toBeUndefined();
      expect((await fromFiles()).map((client) => [client.client_id, client.source])).toEqual([
        ['billing', 'file:billing.json'],
        ['console', 'file:console.json'],
        ['reports', 'file:reports.json'],
      ]);

      const again = await admin('clients', 'sync', dir);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^unchanged\s+billing\s+billing\.json\s+-$/m);
      expect(again.stdout).not.toMatch(/^(create|update)/m);
      expect(again.stdout).not.toContain('shown only this once');

      write('billing.json', { client_name: 'Billing & invoices', redirect_uris: ['https://billing.example.com/cb'] });
      const updated = await sync();
      expect(updated.map(({ action, clientId }) => [action, clientId])).toEqual([
        ['update', 'billing'],
        ['unchanged', 'console'],
        ['unchanged', 'reports'],
      ]);
      expect(updated[0]!.secret).toBeUndefined();
      expect(parsed(await admin('clients', 'show', 'billing', '--json')).client_name).toBe('Billing & invoices');

      rmSync(join(dir, 'reports.json'));
      const orphaned = await admin('clients', 'sync', dir);
      expect(orphaned.stdout).toMatch(/^orphaned\s+reports\s+reports\.json/m);
      expect(orphaned.stdout).toContain('--prune removes them');
      expect((await fromFiles()).map((client) => client.client_id)).toContain('reports');

      const prunePlan = await sync('--prune', '--dry-run');
      expect(prunePlan.find((item) => item.clientId === 'reports')!.action).toBe('remove');
      expect((await fromFiles()).map((client) => client.client_id)).toContain('reports');

      const pruned = await sync('--prune');
      expect(pruned.find((item) => item.clientId === 'reports')!.action).toBe('remove');
      expect((await fromFiles()).map((client) => client.client_id)).toEqual(['billing', 'console']);
    });

    it('writes nothing when any client file is invalid', async () => {
      const dir = mkdtempSync(join(cwd, 'clients-'));
      const write = (name: string, body: unknown) => writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
      write('alpha.json', { client_name: 'Alpha', redirect_uris: ['https://alpha.example.com/cb'] });
      parsed(await admin('clients', 'sync', dir, '--json'));
      const before = await clientList();

      const attempt = async (expected: RegExp) => {
        expectRefused(await admin('clients', 'sync', dir, '--prune'), expected);
        expect(await clientList()).toEqual(before);
      };
      write('alpha.json', { client_name: 'Alpha renamed', redirect_uris: ['https://alpha.example.com/cb'] });
      write('beta.json', { client_name: 'Beta', redirect_uris: ['https://beta.example.com/cb'] });
      write('broken.json', '{ "client_name": ');
      write('evil.json', { client_name: 'Evil', redirect_uris: ['javascript:alert(1)'] });
      write('extra.json', { client_name: 'Extra', redirect_uris: ['https://x.example.com/cb'], client_secret: 'in a file' });
      await attempt(/nothing was changed:\n\s+broken\.json: not valid JSON[\s\S]*evil\.json: redirect_uris\.0: [\s\S]*extra\.json: .*client_secret/);

      // Valid by the file schema, refused by the provider's own client validation.
      rmSync(join(dir, 'broken.json'));
      rmSync(join(dir, 'evil.json'));
      rmSync(join(dir, 'extra.json'));
      write('zeta.json', { client_name: 'Zeta', redirect_uris: ['https://zeta.example.com/cb'], post_logout_redirect_uris: ['com.example.zeta:/bye'] });
      await attempt(/nothing was changed:\n\s+zeta\.json: post_logout_redirect_uris must only contain web uris/);

      // A file may not take over a client registered by hand.
      rmSync(join(dir, 'zeta.json'));
      write('desktop-app.json', { client_name: 'Hijack', public: true, redirect_uris: ['http://127.0.0.1:1/cb'] });
      await attempt(/desktop-app\.json: a client "desktop-app" already exists and was not created from this file/);
    });

    it('refuses a duplicate e-mail, a bad password or address, and an unknown account, writing nothing', async () => {
      const before = await userList();
      expectRefused(await adminWithInput(PASSWORD, 'users', 'add', '--email', 'BOB@example.com', '--password-stdin'), /an account with this e-mail address already exists/);
      expectRefused(await adminWithInput('short\n', 'users', 'add', '--email', 'carol@example.com', '--password-stdin'), /at least 12 characters/);
      expectRefused(await adminWithInput('123123123123\n', 'users', 'add', '--email', 'carol@example.com', '--password-stdin'), /password refused: Repeated characters or groups, like “aaa” or “123123”, are easy to guess\./);
      expectRefused(await admin('users', 'add', '--email', 'not-an-address'), /"not-an-address" is not an e-mail address/);
      expectRefused(await adminWithInput(PASSWORD, 'users', 'add', '--email', 'dave@example.com', '--password', PASSWORD, '--password-stdin'), /either --password or --password-stdin/);
      expectRefused(await admin('users', 'disable', 'nobody@example.com'), /no account "nobody@example.com"/);
      expect(await userList()).toEqual(before);
    });

    it('rotates a secret: the old one stops working, the new one works, neither is stored', async () => {
      const { client_id: id, client_secret: first } = parsed(await admin('clients', 'add', '--name', 'Reporting', '--grant', 'client_credentials', '--json'));
      expect((await clientCredentials(id, first)).access_token).toBeTruthy();

      const rotated = parsed(await admin('clients', 'rotate-secret', id, '--json'));
      expect(rotated.client_id).toBe(id);
      expect(rotated.client_secret).toMatch(/^[\w-]{43}$/);
      expect(rotated.client_secret).not.toBe(first);

      expect(await oauthError(clientCredentials(id, first))).toBe('invalid_client');
      expect((await clientCredentials(id, rotated.client_secret)).access_token).toBeTruthy();

      const row = await server.db.prisma.client.findUniqueOrThrow({ where: { id } });
      expect(JSON.stringify(row)).not.toContain(first);
      expect(JSON.stringify(row)).not.toContain(rotated.client_secret);

      const human = await admin('clients', 'rotate-secret', id);
      expect(human.stdout).toMatch(/^client secret:\s+[\w-]{43}$/m);
      expect(human.stdout).toContain('The secret is shown only this once');
      expectRefused(await admin('clients', 'rotate-secret', 'desktop-app'), /"desktop-app" is a public client: it has no secret/);
    });

    it('disables a client, whose credentials then fail, and enables it again', async () => {
      const { client_id: id, client_secret: secret } = parsed(await admin('clients', 'add', '--name', 'Sync job', '--grant', 'client_credentials', '--json'));
      const disabled = await admin('clients', 'disable', id);
      expect(disabled.stdout).toBe(`Client ${id} is now disabled.\n`);
      expect(parsed(await admin('clients', 'show', id, '--json')).status).toBe('disabled');
      expect(await oauthError(clientCredentials(id, secret))).toBe('invalid_client');

      expect(parsed(await admin('clients', 'enable', id, '--json')).status).toBe('enabled');
      expect((await clientCredentials(id, secret)).access_token).toBeTruthy();
    });

    it('creates an account whose stdin password signs in, and disables it', async () => {
      const web = parsed(await admin('clients', 'add', '--name', 'Portal', '--first-party', '--redirect-uri', `${RP}/portal/cb`, '--json'));
      const rp = await discover(server.issuer, web.client_id, web.client_secret);
      const user = parsed(await adminWithInput(`${PASSWORD}\n`, 'users', 'add', '--email', 'erin@example.com', '--password-stdin', '--verified', '--given-name', 'Erin', '--family-name', 'Brockovich', '--json'));

      const callback = await signIn(new Browser(server.issuer), await beginSignIn(rp, `${RP}/portal/cb`), 'erin@example.com', PASSWORD);
      expect(new URL(callback).searchParams.get('code')).toBeTruthy();

      expect(parsed(await admin('users', 'disable', 'erin@example.com', '--json'))).toMatchObject({ id: user.id, status: 'disabled' });
      const browser = new Browser(server.issuer);
      const login = await browser.open((await beginSignIn(rp, `${RP}/portal/cb`)).url);
      const refused = await browser.submit(login, { email: 'erin@example.com', password: PASSWORD });
      expect(refused.status).toBe(401);
      expect(refused.stoppedAt).toBeUndefined();
    });

    it('lists what a person allowed apps, and withdraws it: the app’s tokens stop working and it must ask again', async () => {
      const web = parsed(await admin('clients', 'add', '--name', 'Photo album', '--id', 'album', '--redirect-uri', `${RP}/album/cb`, '--json'));
      const rp = await discover(server.issuer, web.client_id, web.client_secret);
      const user = parsed(await adminWithInput(`${PASSWORD}\n`, 'users', 'add', '--email', 'ida@example.com', '--password-stdin', '--verified', '--given-name', 'Ida', '--family-name', 'Noddack', '--json'));
      expect(parsed(await admin('users', 'consents', 'ida@example.com', '--json'))).toEqual([]);
      expect((await admin('users', 'consents', 'ida@example.com')).stdout).toBe('ida@example.com has not allowed any app (first-party apps need no consent).\n');

      const flow = await beginSignIn(rp, `${RP}/album/cb`);
      const callback = await signIn(new Browser(server.issuer), flow, 'ida@example.com', PASSWORD);
      const tokens = await oidc.authorizationCodeGrant(rp, new URL(callback), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });

      const [consent] = parsed(await admin('users', 'consents', user.id, '--json'));
      expect(consent).toMatchObject({ client_id: 'album', client_name: 'Photo album', scopes: ['email', 'openid', 'profile'], claims: [] });
      expect((await admin('users', 'consents', 'IDA@example.com')).stdout).toMatch(/^CLIENT\s+NAME\s+SCOPES\s+FIRST ALLOWED\s+LAST CHANGED\n[- ]+\nalbum\s+Photo album\s+email openid profile\s/);

      expectRefused(await admin('users', 'forget-consent', 'ida@example.com', '--client', 'nobody'), /ida@example\.com has not allowed client "nobody"/);
      expectRefused(await admin('users', 'forget-consent', 'nobody@example.com'), /no account "nobody@example\.com"/);
      expect((await oidc.refreshTokenGrant(rp, tokens.refresh_token!)).access_token).toBeTruthy();

      const forgotten = await admin('users', 'forget-consent', 'ida@example.com', '--client', 'album');
      expect(forgotten.stdout).toBe('Forgot what ida@example.com allowed album; their tokens for it no longer work.\n');
      expect(await oauthError(oidc.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_grant');
      expect(parsed(await admin('users', 'consents', 'ida@example.com', '--json'))).toEqual([]);
      expect(parsed(await admin('users', 'forget-consent', 'ida@example.com', '--json'))).toEqual({ id: user.id, email: 'ida@example.com', forgotten: [] });

      // The next sign-in, on a new browser, asks again.
      const browser = new Browser(server.issuer);
      const again = await browser.submit(await browser.open((await beginSignIn(rp, `${RP}/album/cb`)).url), { email: 'ida@example.com', password: PASSWORD });
      expect(again.doc.querySelector('h1')?.text).toBe('Photo album wants to access your Sésame account');
    });

    it('removes an account only with --yes: its tokens stop working, it cannot sign in, and the address is free again', async () => {
      const web = parsed(await admin('clients', 'add', '--name', 'Leaving app', '--redirect-uri', `${RP}/leaving/cb`, '--json'));
      const rp = await discover(server.issuer, web.client_id, web.client_secret);
      const user = parsed(await adminWithInput(`${PASSWORD}\n`, 'users', 'add', '--email', 'jo@example.com', '--password-stdin', '--verified', '--given-name', 'Jo', '--family-name', 'March', '--json'));
      const flow = await beginSignIn(rp, `${RP}/leaving/cb`);
      const callback = await signIn(new Browser(server.issuer), flow, 'jo@example.com', PASSWORD);
      const tokens = await oidc.authorizationCodeGrant(rp, new URL(callback), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });

      expectRefused(await admin('users', 'remove', 'jo@example.com'), /this deletes the account jo@example\.com .* --yes/);
      expect((await userList()).map((u) => u.id)).toContain(user.id);
      expectRefused(await admin('users', 'remove', 'nobody@example.com', '--yes'), /no account "nobody@example\.com"/);

      const removed = await admin('users', 'remove', 'JO@example.com', '--yes');
      expect(removed.stdout).toBe(`Account jo@example.com (${user.id}) removed.\n`);
      expect((await userList()).map((u) => u.id)).not.toContain(user.id);
      expect(await oauthError(oidc.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_grant');
      const browser = new Browser(server.issuer);
      const refused = await browser.submit(await browser.open((await beginSignIn(rp, `${RP}/leaving/cb`)).url), { email: 'jo@example.com', password: PASSWORD });
      expect(refused.status).toBe(401);

      // The address can be registered again: another account, another sub.
      const again = parsed(await adminWithInput(`${PASSWORD}\n`, 'users', 'add', '--email', 'jo@example.com', '--password-stdin', '--json'));
      expect(again.id).not.toBe(user.id);
    });

    it('rotates keys: --activate-in 0 signs with the new key at once, the old one stays published', async () => {
      const before = parsed<{ kid: string; alg: string; status: string }[]>(await admin('keys', 'list', '--json'));
      const oldRsa = before.find((key) => key.alg === 'RS256' && key.status === 'active')!;

      const [created] = parsed<{ kid: string; alg: string; activates_at: string }[]>(await admin('keys', 'rotate', '--alg', 'RS256', '--activate-in', '0', '--json'));
      expect(created!.alg).toBe('RS256');
      const after = parsed<{ kid: string; status: string; published_until?: string }[]>(await admin('keys', 'list', '--json'));
      expect(after.find((key) => key.kid === created!.kid)!.status).toBe('active');
      const old = after.find((key) => key.kid === oldRsa.kid)!;
      expect(old.status).toBe('retiring');
      const expectedUntil = Date.parse(created!.activates_at) + (server.config.ttl.idToken + 300) * 1000;
      expect(Math.abs(Date.parse(old.published_until!) - expectedUntil)).toBeLessThan(1000);

      // The server also reloads keys on its own timer, which may already have run: what
      // matters is what it publishes and signs with once it has looked.
      await server.sesame.host.refresh();
      const published = (await jwksKids()).filter((key) => key.alg === 'RS256').map((key) => key.kid);
      expect(published.sort()).toEqual([created!.kid, oldRsa.kid].sort());

      // The server signs ID tokens with the new key.
      const web = parsed(await admin('clients', 'add', '--name', 'Key check', '--first-party', '--redirect-uri', `${RP}/keys/cb`, '--json'));
      await server.sesame.users.create({ email: 'frank@example.com', password: PASSWORD, emailVerified: true, givenName: 'Frank', familyName: 'Lloyd' });
      const rp = await discover(server.issuer, web.client_id, web.client_secret);
      const flow = await beginSignIn(rp, `${RP}/keys/cb`);
      const callback = await signIn(new Browser(server.issuer), flow, 'frank@example.com', PASSWORD);
      const tokens = await oidc.authorizationCodeGrant(rp, new URL(callback), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
      const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString());
      expect(header).toMatchObject({ alg: 'RS256', kid: created!.kid });
    });

    it('rotates keys by default with a delay: the new key is published first, pending', async () => {
      const [created] = parsed<{ kid: string }[]>(await admin('keys', 'rotate', '--alg', 'ES256', '--json'));
      const listed = parsed<{ kid: string; status: string }[]>(await admin('keys', 'list', '--json'));
      expect(listed.find((key) => key.kid === created!.kid)!.status).toBe('pending');
      expect(listed.filter((key) => key.status === 'active').map((key) => (key as { alg?: string }).alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);

      await server.sesame.host.refresh();
      expect((await jwksKids()).map((key) => key.kid)).toContain(created!.kid);

      const table = await admin('keys', 'list');
      expect(table.stdout).toMatch(new RegExp(`^${created!.kid}\\s+ES256\\s+pending\\s`, 'm'));
    });

    it('records every change in the audit log, and nothing for reads or refusals', async () => {
      const last = (await server.db.prisma.auditEvent.aggregate({ _max: { id: true } }))._max.id ?? 0n;
      const dir = mkdtempSync(join(cwd, 'clients-'));
      writeFileSync(join(dir, 'audited.json'), JSON.stringify({ client_name: 'Audited', redirect_uris: ['https://audited.example.com/cb'] }));

      const client = parsed(await admin('clients', 'add', '--name', 'Audit me', '--id', 'audit-me', '--redirect-uri', 'https://a.example.com/cb', '--json'));
      await admin('clients', 'show', 'audit-me');
      await admin('clients', 'list');
      expectRefused(await admin('clients', 'add', '--name', 'Evil', '--redirect-uri', 'javascript:alert(1)'), /javascript/);
      await admin('clients', 'rotate-secret', 'audit-me');
      await admin('clients', 'disable', 'audit-me');
      await admin('clients', 'enable', 'audit-me');
      expectRefused(await admin('clients', 'remove', 'audit-me'), /--yes/);
      await admin('clients', 'remove', 'audit-me', '--yes');
      await admin('clients', 'sync', dir);
      const user = parsed(await adminWithInput(PASSWORD, 'users', 'add', '--email', 'grace@example.com', '--password-stdin', '--json'));
      await admin('users', 'disable', user.id);
      await admin('users', 'enable', user.id);
      expectRefused(await admin('users', 'remove', user.id), /--yes/);
      await admin('users', 'remove', user.id, '--yes');
      const [key] = parsed<{ kid: string }[]>(await admin('keys', 'rotate', '--alg', 'EdDSA', '--json'));
      await admin('keys', 'list');

      const events = await server.db.prisma.auditEvent.findMany({ where: { id: { gt: last } }, orderBy: { id: 'asc' } });
      expect(events.map((event) => [event.action, event.target])).toEqual([
        ['client.add', client.client_id],
        ['client.rotate-secret', 'audit-me'],
        ['client.disable', 'audit-me'],
        ['client.enable', 'audit-me'],
        ['client.remove', 'audit-me'],
        ['client.sync.create', 'audited'],
        ['user.add', user.id],
        ['user.disable', user.id],
        ['user.enable', user.id],
        ['user.remove', user.id],
        ['key.rotate', key!.kid],
      ]);
      for (const event of events) expect(event.actor).toMatch(/^.+@.+$/);
      expect(JSON.stringify(events, (_key, value) => (typeof value === 'bigint' ? String(value) : value))).not.toContain(PASSWORD);
    });
  });
});
