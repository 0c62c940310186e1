// `users import` as an operator runs it against a running Sésame: accounts from a JSON-lines file
// or an Auth.js database come in with their old passwords and Google links, once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, parsed, runAdmin } from './support/admin-cli.ts';
import type { Run } from './support/admin-cli.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from './support/rp.ts';
import { STORES } from './support/stores.ts';
import { INTRANET_CB, startFederation, subjectViaGoogle } from './federation/harness.ts';
import type { Federation } from './federation/harness.ts';

const OLD_PASSWORD = 'the password from the old app';

describe.each(STORES)('users import on %s', (kind) => {
  let h: Federation;
  let cwd: string;
  let lines = 0;

  beforeAll(async () => {
    h = await startFederation(kind, { USERS_FEED_SETTLE: '0' });
    cwd = mkdtempSync(join(tmpdir(), 'sesame-import-'));
  });
  afterAll(async () => {
    await h?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  const admin = (...args: string[]): Promise<Run> => runAdmin(h.f.store.env, cwd, args);
  const user = (email: string) => h.prisma.user.findUnique({ where: { emailKey: email.toLowerCase() } });

  function file(rows: object[]): string {
    const path = join(cwd, `users-${++lines}.jsonl`);
    writeFileSync(path, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    return path;
  }

  /** Signs in to the first-party app with a password; the `sub` the app gets. */
  async function signInWithPassword(email: string, password: string): Promise<string> {
    const flow = await beginSignIn(h.intranet, INTRANET_CB);
    const callback = await signIn(h.browser(), flow, email, password);
    return (await redeem(h.intranet, flow, callback)).claims()!.sub;
  }

  it('keeps a bcrypt password: the person signs in with it, and it is re-hashed with argon2id', async () => {
    const hash = bcrypt.hashSync(OLD_PASSWORD, 4).replace(/^\$2b\$/, '$2y$');
    const path = file([{ email: 'Bea@Example.com', email_verified: true, name: 'Bea Bcrypt', password_hash: hash, external_id: 'app-1', created_at: '2021-03-04T05:06:07.000Z' }]);
    const summary = parsed(await admin('users', 'import', path, '--json'));
    expect(summary).toMatchObject({ dry_run: false, total: 1, created: 1, updated: 0, unchanged: 0, refused: 0 });
    const imported = (await user('bea@example.com'))!;
    expect(imported).toMatchObject({ passwordHash: hash, givenName: 'Bea', familyName: 'Bcrypt', externalId: 'app-1', emailVerified: true, roles: ['member'] });
    expect(imported.createdAt.toISOString()).toBe('2021-03-04T05:06:07.000Z');

    expect(await signInWithPassword('bea@example.com', OLD_PASSWORD)).toBe(imported.id);
    const rehashed = (await user('bea@example.com'))!;
    expect(rehashed.passwordHash).toMatch(/^\$argon2id\$/);
    // Apps see nothing new: the users feed does not list the account again.
    expect(rehashed.updatedAt).toEqual(imported.updatedAt);
    expect(await signInWithPassword('bea@example.com', OLD_PASSWORD)).toBe(imported.id);
  });

  it('keeps an argon2id hash exactly as it was given', async () => {
    const hash = await argon2.hash(OLD_PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 3, parallelism: 1 });
    const path = file([{ email: 'argo@example.com', email_verified: true, given_name: 'Argo', family_name: 'Nought', password_hash: hash, roles: ['ADMIN', 'member'] }]);
    parsed(await admin('users', 'import', path, '--json'));
    expect(await user('argo@example.com')).toMatchObject({ passwordHash: hash, roles: ['admin', 'member'], givenName: 'Argo', familyName: 'Nought' });
    expect(await signInWithPassword('argo@example.com', OLD_PASSWORD)).toBe((await user('argo@example.com'))!.id);
  });

  it('changes nothing when run twice, and announces each account once through the webhook events', async () => {
    const rows = [
      { email: 'twice1@example.com', external_id: 'tw-1', name: 'Tess Twice' },
      { email: 'twice2@example.com', external_id: 'tw-2', google_sub: '2000000000000000000001' },
    ];
    const path = file(rows);
    expect(parsed(await admin('users', 'import', path, '--json'))).toMatchObject({ created: 2, unchanged: 0 });
    const count = await h.prisma.user.count();
    const again = await admin('users', 'import', path);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^2 rows: 0 created, 0 updated, 2 unchanged, 0 refused\.$/m);
    expect(await h.prisma.user.count()).toBe(count);
    expect(await h.prisma.federatedIdentity.count({ where: { subject: '2000000000000000000001' } })).toBe(1);
    const events = await h.prisma.webhookEvent.findMany({ where: { type: 'user.created' } });
    const announced = events.map((event) => (event.payload as { data: { external_id: string | null } }).data.external_id).filter((id) => id?.startsWith('tw-'));
    expect(announced.sort()).toEqual(['tw-1', 'tw-2']);
  });

  it('updates an account it finds by external_id or by address, and says what changed', async () => {
    await h.f.server.sesame.users.create({ email: 'existing@example.com', givenName: 'Old' });
    const path = file([{ email: 'existing@example.com', given_name: 'New', external_id: 'ex-1', roles: ['admin'] }]);
    const summary = parsed(await admin('users', 'import', path, '--json'));
    expect(summary).toMatchObject({ created: 0, updated: 1 });
    expect(summary.rows[0].changes.sort()).toEqual(['externalId', 'givenName', 'roles']);
    const renamed = file([{ email: 'renamed@example.com', external_id: 'ex-1', given_name: 'New', roles: ['admin'] }]);
    expect(parsed(await admin('users', 'import', renamed, '--json'))).toMatchObject({ updated: 1 });
    expect(await user('renamed@example.com')).toMatchObject({ externalId: 'ex-1', givenName: 'New' });
    expect(await user('existing@example.com')).toBeNull();
  });

  it('--dry-run reports what would change and writes nothing', async () => {
    const path = file([{ email: 'dry@example.com', external_id: 'dry-1' }, { email: 'Bea@Example.com', external_id: 'app-1', name: 'Beatrice Bcrypt' }]);
    const before = { users: await h.prisma.user.count(), events: await h.prisma.webhookEvent.count() };
    const run = await admin('users', 'import', path, '--dry-run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('line 1 (dry-1): would create');
    expect(run.stdout).toContain('line 2 (app-1): would update givenName\n');
    expect(run.stdout).toContain('Dry run, nothing written');
    expect(await user('dry@example.com')).toBeNull();
    expect((await user('bea@example.com'))!.givenName).toBe('Bea');
    expect({ users: await h.prisma.user.count(), events: await h.prisma.webhookEvent.count() }).toEqual(before);
  });

  it('refuses bad rows with their line and reason, writes none of them, imports the rest and exits 1', async () => {
    const path = file([
      { email: 'fine@example.com' },
      { email: 'not-an-address' },
      { email: 'role@example.com', roles: ['superuser'] },
      { email: 'md5@example.com', password_hash: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { email: 'taken-sub@example.com', google_sub: '2000000000000000000001' },
      { email: 'same-sub-1@example.com', google_sub: '3000000000000000000001' },
      { email: 'same-sub-2@example.com', google_sub: '3000000000000000000001' },
      { email: 'typo@example.com', passwordHash: 'x' },
    ]);
    const run = await admin('users', 'import', path);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('line 1 (fine@example.com): created');
    expect(run.stdout).toContain('line 2 (not-an-address): refused: email is not an e-mail address');
    expect(run.stdout).toContain('line 3 (role@example.com): refused: unknown role "superuser"');
    expect(run.stdout).toContain('line 4 (md5@example.com): refused: password_hash is not a bcrypt');
    expect(run.stdout).toMatch(/line 5 \(taken-sub@example.com\): refused: google_sub 2000000000000000000001 is linked to another account/);
    expect(run.stdout).toContain('line 7 (same-sub-2@example.com): refused: same google_sub 3000000000000000000001 as line 6');
    expect(run.stdout).toContain('line 8 (typo@example.com): refused: unknown field "passwordHash"');
    expect(run.stdout).toContain('8 rows: 2 created, 0 updated, 0 unchanged, 6 refused.');
    for (const email of ['role@example.com', 'md5@example.com', 'taken-sub@example.com', 'same-sub-2@example.com', 'typo@example.com']) expect(await user(email)).toBeNull();
    expect(await user('fine@example.com')).not.toBeNull();

    const json = await admin('users', 'import', path, '--json');
    expect(json.code).toBe(1);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({ total: 8, created: 0, unchanged: 2, refused: 6 });
    expect(summary.rows.map((row: { line: number }) => row.line)).toEqual([2, 3, 4, 5, 7, 8]);
    expect(summary.rows[0]).toEqual({ line: 2, ref: 'not-an-address', outcome: 'refused', reason: 'email is not an e-mail address' });
  });

  it('refuses a file it cannot read (1) and a command line naming two sources or none (2)', async () => {
    expectRefused(await admin('users', 'import', join(cwd, 'missing.jsonl')), /^error: cannot read .*missing\.jsonl/, 1);
    expectRefused(await admin('users', 'import', file([]), '--from-authjs', 'postgres://127.0.0.1/x'), /either a JSON-lines file or --from-authjs/, 2);
    expectRefused(await admin('users', 'import'), /either a JSON-lines file or --from-authjs/, 2);
  });

  it('shows the external_id in `users show --json` and in the users feed', async () => {
    const shown = parsed(await admin('users', 'show', 'bea@example.com', '--json'));
    expect(shown.external_id).toBe('app-1');
    const reader = await h.f.server.sesame.clients.add({
      client_name: 'Import reader',
      redirect_uris: [],
      post_logout_redirect_uris: [],
      grant_types: ['client_credentials'],
      public: false,
      first_party: false,
      allowed_scopes: ['users:read'],
    });
    const config = await discover(h.f.issuer, reader.client.clientId, reader.secret);
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'users:read' });
    const response = await fetch(`${h.f.issuer}/api/v1/users/${shown.id}`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await response.json()).toMatchObject({ sub: shown.id, external_id: 'app-1', email: 'Bea@Example.com' });
  });

  describe.skipIf(!process.env.TEST_DATABASE_URL)('from an Auth.js database', () => {
    let source: string;
    const base = () => new URL(process.env.TEST_DATABASE_URL!);

    beforeAll(async () => {
      const name = `authjs_t_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: base().href });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = base();
      url.pathname = `/${name}`;
      source = url.href;
      const db = new pg.Client({ connectionString: source });
      await db.connect();
      // The Auth.js Prisma adapter's tables, plus the password and role columns apps add.
      await db.query(`
        CREATE TABLE "User" ("id" text PRIMARY KEY, "name" text, "email" text UNIQUE, "emailVerified" timestamp(3), "image" text,
          "password" text, "role" text NOT NULL DEFAULT 'MEMBER',
          "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE "Account" ("userId" text NOT NULL REFERENCES "User"("id") ON DELETE CASCADE, "type" text NOT NULL,
          "provider" text NOT NULL, "providerAccountId" text NOT NULL, "refresh_token" text, "access_token" text, "expires_at" integer,
          "token_type" text, "scope" text, "id_token" text, "session_state" text,
          PRIMARY KEY ("provider", "providerAccountId"));`);
      await db.query(
        `INSERT INTO "User" ("id", "name", "email", "emailVerified", "image", "password", "role", "createdAt") VALUES
          ('cl_ada', 'Ada King Lovelace', 'ada@authjs.example', '2023-01-02 03:04:05', 'https://img.example/ada.png', $1, 'ADMIN', '2020-05-06 07:08:09'),
          ('cl_gus', 'Gus Grant', 'gus@authjs.example', '2024-01-01 00:00:00', NULL, NULL, 'MEMBER', '2022-01-01 00:00:00'),
          ('cl_una', 'Una', 'una@authjs.example', NULL, NULL, NULL, 'MEMBER', '2022-01-01 00:00:00'),
          ('cl_odd', 'Odd Role', 'odd@authjs.example', NULL, NULL, NULL, 'OWNER', '2022-01-01 00:00:00')`,
        [bcrypt.hashSync(OLD_PASSWORD, 4)],
      );
      await db.query(`INSERT INTO "Account" VALUES ('cl_gus', 'oidc', 'google', '4000000000000000000007', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                                                   ('cl_ada', 'oauth', 'github', '12345', NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
      await db.end();
    });
    afterAll(async () => {
      if (!source) return;
      const admin = new pg.Client({ connectionString: base().href });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${new URL(source).pathname.slice(1)} WITH (FORCE)`);
      await admin.end();
    });

    it('refuses a database that is not an Auth.js one', async () => {
      expectRefused(await admin('users', 'import', '--from-authjs', base().href), /^error: no "User"\."id" column: this is not an Auth\.js/, 1);
    });

    it('maps users, roles, verified addresses, names, passwords and Google accounts', async () => {
      const run = await admin('users', 'import', '--from-authjs', source, '--json');
      expect(run.code).toBe(1);
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({ total: 4, created: 3, refused: 1 });
      expect(summary.rows.find((row: { ref: string }) => row.ref === 'cl_odd')).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('unknown role "owner"') });
      expect(await user('odd@authjs.example')).toBeNull();

      const ada = (await user('ada@authjs.example'))!;
      expect(ada).toMatchObject({ externalId: 'cl_ada', emailVerified: true, givenName: 'Ada', familyName: 'King Lovelace', picture: 'https://img.example/ada.png', roles: ['admin'] });
      expect(ada.passwordHash).toMatch(/^\$2[aby]\$/);
      expect(await signInWithPassword('ada@authjs.example', OLD_PASSWORD)).toBe(ada.id);

      const gus = (await user('gus@authjs.example'))!;
      expect(gus).toMatchObject({ externalId: 'cl_gus', emailVerified: true, givenName: 'Gus', familyName: 'Grant', roles: ['member'], passwordHash: null });
      expect(await user('una@authjs.example')).toMatchObject({ externalId: 'cl_una', emailVerified: false, givenName: 'Una', familyName: null });
      // Keyed on Google's subject, not the address: Gus's Google address is another one.
      const google = h.googleAccount({ sub: '4000000000000000000007' });
      expect(await subjectViaGoogle(h, h.browser(), google)).toBe(gus.id);

      const again = JSON.parse((await admin('users', 'import', '--from-authjs', source, '--json')).stdout);
      expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 3, refused: 1 });
    });
  });
});
