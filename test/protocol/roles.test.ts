// Roles as the company's apps read them: a `roles` claim (array of strings) for apps that ask for
// the `roles` scope, in the ID token and userinfo, following what an admin sets with the CLI; the
// consent page says the app will see them; and the CLI's answers and exit statuses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { expectRefused, parsed, runAdmin } from '../support/admin-cli.ts';

describe.each(STORES)('roles on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;
  let intranet: oidc.Configuration;
  let cwd: string;
  let people = 0;
  const admin = (...args: string[]) => runAdmin(f.store.env, cwd, args);

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
    intranet = await discover(f.issuer, f.firstParty.id, f.firstParty.secret);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-roles-'));
  });
  afterAll(async () => {
    await f?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  async function person() {
    people++;
    return f.server.sesame.users.create({ email: `role-${people}@example.com`, password: PASSWORD, emailVerified: true, givenName: 'Ro', familyName: 'Le' });
  }

  async function signInToIntranet(email: string, scope: string) {
    const flow = await beginSignIn(intranet, `${RP}/intranet/cb`, { scope });
    return redeem(intranet, flow, await signIn(new Browser(f.issuer), flow, email, PASSWORD));
  }

  it('lists the default roles of a new account, and the discovery document offers the scope and claim', async () => {
    const { email } = await person();
    expect(parsed(await admin('users', 'show', email, '--json')).roles).toEqual(['member']);
    const metadata = web.serverMetadata();
    expect(metadata.scopes_supported).toContain('roles');
    expect(metadata.claims_supported).toContain('roles');
  });

  it('puts the roles in the ID token and userinfo for apps that ask, and nowhere for others', async () => {
    const { id, email } = await person();
    const withRoles = await signInToIntranet(email, 'openid roles');
    expect(withRoles.claims()).toMatchObject({ sub: id, roles: ['member'] });
    expect(await oidc.fetchUserInfo(intranet, withRoles.access_token, id)).toMatchObject({ sub: id, roles: ['member'] });

    const without = await signInToIntranet(email, 'openid email');
    expect(without.claims()!.roles).toBeUndefined();
    expect((await oidc.fetchUserInfo(intranet, without.access_token, id)).roles).toBeUndefined();
  });

  it('follows set-roles: the next refresh and userinfo carry the new set, list --role finds the account', async () => {
    const { id, email } = await person();
    const tokens = await signInToIntranet(email, 'openid roles');
    expect(tokens.claims()!.roles).toEqual(['member']);

    const changed = parsed(await admin('users', 'set-roles', email, 'admin', 'member', '--json'));
    expect(changed).toMatchObject({ id, roles: ['admin', 'member'] });
    const refreshed = await oidc.refreshTokenGrant(intranet, tokens.refresh_token!);
    expect(refreshed.claims()!.roles).toEqual(['admin', 'member']);
    expect((await oidc.fetchUserInfo(intranet, refreshed.access_token, id)).roles).toEqual(['admin', 'member']);

    const admins = parsed<{ id: string }[]>(await admin('users', 'list', '--role', 'admin', '--json'));
    expect(admins.map((user) => user.id)).toEqual([id]);
    const members = parsed<{ id: string }[]>(await admin('users', 'list', '--role', 'member', '--json'));
    expect(members.map((user) => user.id)).toContain(id);

    const shown = await admin('users', 'show', id);
    expect(shown.stdout).toMatch(/^roles:\s+admin, member$/m);
    const audit = await f.server.db.prisma.auditEvent.findFirst({ where: { action: 'user.set-roles', target: id } });
    expect(audit?.details).toEqual({ from: ['member'], to: ['admin', 'member'] });
  });

  it('tells the person on the consent page that the app will see their roles, in English and French', async () => {
    const { email } = await person();
    for (const [locale, text] of [['en', 'See your roles in the company'], ['fr', 'Voir vos rôles dans l’entreprise']] as const) {
      const browser = new Browser(f.issuer, { 'accept-language': locale });
      const flow = await beginSignIn(web, `${RP}/cb`, { scope: 'openid roles' });
      const consent = await browser.submit(await browser.open(flow.url), { email, password: PASSWORD });
      const listed = consent.doc.querySelectorAll('.scopes li').map((li) => li.text.trim());
      expect(listed.some((line) => line.startsWith(text)), listed.join(' | ')).toBe(true);
    }
  });

  it('refuses unknown roles and accounts with exit 1, and command lines that cannot run with exit 2, changing nothing', async () => {
    const { email } = await person();
    expectRefused(await admin('users', 'set-roles', email, 'superuser'), /unknown role "superuser": the roles are member, admin/, 1);
    expectRefused(await admin('users', 'set-roles', email, 'Admin'), /"Admin" is not a role name/, 1);
    expectRefused(await admin('users', 'set-roles', 'nobody@example.com', 'admin'), /no account "nobody@example\.com"/, 1);
    expectRefused(await admin('users', 'show', 'nobody@example.com'), /no account "nobody@example\.com"/, 1);
    expectRefused(await admin('clients', 'show', 'no-such-app'), /no client with id "no-such-app"/, 1);
    expectRefused(await runAdmin(f.store.env, cwd, ['users', 'add', '--email', 'weak@example.com', '--password-stdin'], 'short'), /at least 12 characters/, 1);
    expectRefused(await admin('clients', 'add', '--name', 'Evil', '--redirect-uri', 'javascript:alert(1)'), /javascript/, 1);
    expectRefused(await admin('users', 'set-roles', email), /missing required argument/, 2);
    expectRefused(await admin('users', 'add', '--email', 'x@example.com', '--password', 'p', '--password-stdin'), /either --password or --password-stdin/, 2);
    expect(parsed(await admin('users', 'show', email, '--json')).roles).toEqual(['member']);
  });
});
