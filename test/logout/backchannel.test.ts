// OpenID Connect Back-Channel Logout 1.0 as relying apps see it: every app that took part in a
// session gets a logout token (verified with jose against the published keys: typ logout+jwt,
// iss, aud, the event, `sid` as in that app's ID token, `sub`, no nonce) when the session ends:
// the app's sign-out, "sign out everywhere", a password reset, an account disabled; and it
// arrives after the app's endpoint was down for a while. Discovery says so; the CLI registers it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderRows } from '../../src/oidc/provider-rows.ts';
import type { Browser } from '../support/browser.ts';
import { expectRefused, parsed, runAdmin } from '../support/admin-cli.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { RP, startHarness } from '../self-service/harness.ts';
import type { Account, Harness } from '../self-service/harness.ts';
import { eventually, startLogoutReceiver, verifyLogoutToken } from './receiver.ts';
import type { LogoutReceiver } from './receiver.ts';

type Tokens = Awaited<ReturnType<typeof redeem>>;

describe.each(STORES)('back-channel logout on %s', (kind) => {
  let h: Harness;
  let receiver: LogoutReceiver;
  let cwd: string;
  let jwksUri: string;
  const apps: Record<'wiki' | 'crm', { id: string; config: oidc.Configuration }> = {} as never;
  const admin = (...args: string[]) => runAdmin(h.f.store.env, cwd, args);

  beforeAll(async () => {
    receiver = await startLogoutReceiver();
    h = await startHarness(kind);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-logout-'));
    for (const name of ['wiki', 'crm'] as const) {
      const { client, secret } = await h.f.server.sesame.clients.add({
        client_name: name,
        redirect_uris: [`${RP}/${name}/cb`],
        post_logout_redirect_uris: [`${RP}/${name}/bye`],
        grant_types: ['authorization_code', 'refresh_token'],
        first_party: true,
        // The test endpoint listens on loopback http.
        development: true,
        backchannel_logout_uri: `${receiver.url}/${name}`,
      });
      apps[name] = { id: client.clientId, config: await discover(h.f.issuer, client.clientId, secret) };
    }
    jwksUri = apps.wiki.config.serverMetadata().jwks_uri!;
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  async function signInTo(browser: Browser, name: 'wiki' | 'crm', account: Account): Promise<Tokens> {
    const flow = await beginSignIn(apps[name].config, `${RP}/${name}/cb`);
    return redeem(apps[name].config, flow, await signIn(browser, flow, account.email, account.password));
  }
  const sidOf = (tokens: Tokens) => tokens.claims()!.sid as string;

  /** The logout token `name` received for `account`, verified; it carries `sid`. */
  async function expectLogout(name: 'wiki' | 'crm', account: Account, sid: string) {
    await eventually(() => receiver.to(`/${name}`, account.id).length > 0, `a logout token at ${name}`);
    const [request, ...more] = receiver.to(`/${name}`, account.id);
    expect(more).toEqual([]);
    expect(request!.contentType).toBe('application/x-www-form-urlencoded');
    const claims = await verifyLogoutToken(request!.token, { issuer: h.f.issuer, jwksUri, clientId: apps[name].id });
    expect(claims).toMatchObject({ sub: account.id, sid, aud: apps[name].id });
  }

  async function stillSignedIn(browser: Browser, name: 'wiki' | 'crm') {
    const flow = await beginSignIn(apps[name].config, `${RP}/${name}/cb`, { prompt: 'none' });
    const page = await browser.open(flow.url);
    return !new URL(page.stoppedAt!).searchParams.has('error');
  }

  const refreshRefused = (name: 'wiki' | 'crm', tokens: Tokens) =>
    expect(oidc.refreshTokenGrant(apps[name].config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

  it('is advertised in discovery, with sid', async () => {
    const metadata = await (await fetch(`${h.f.issuer}/.well-known/openid-configuration`)).json();
    expect(metadata).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  });

  it('tells every app signed in through a browser when that browser signs out at one of them, each with its own sid', async () => {
    const account = await h.account({ label: 'rp-logout' });
    const browser = h.browser();
    const wiki = await signInTo(browser, 'wiki', account);
    const crm = await signInTo(browser, 'crm', account);
    // An app without a back-channel logout URI takes part too: it is not written to.
    const web = beginSignIn(h.web, `${RP}/cb`);
    await signIn(browser, await web, account.email, account.password);
    expect(sidOf(wiki)).not.toBe(sidOf(crm));

    const confirm = await browser.open(oidc.buildEndSessionUrl(apps.wiki.config, { id_token_hint: wiki.id_token! }).href);
    await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });

    await expectLogout('wiki', account, sidOf(wiki));
    await expectLogout('crm', account, sidOf(crm));
    const queued = await h.prisma.backchannelLogout.findMany({ where: { sub: account.id }, orderBy: { clientId: 'asc' } });
    expect(queued.map((row) => row.clientId).sort()).toEqual([apps.crm.id, apps.wiki.id].sort());
    expect(await stillSignedIn(browser, 'crm')).toBe(false);
  });

  it('tells only the app that asked when the person stays signed in at Sésame', async () => {
    const account = await h.account({ label: 'stay' });
    const browser = h.browser();
    const wiki = await signInTo(browser, 'wiki', account);
    await signInTo(browser, 'crm', account);
    const confirm = await browser.open(oidc.buildEndSessionUrl(apps.wiki.config, { id_token_hint: wiki.id_token! }).href);
    await browser.submit(confirm, {});

    await expectLogout('wiki', account, sidOf(wiki));
    expect(await stillSignedIn(browser, 'crm')).toBe(true);
    expect(receiver.to('/crm', account.id)).toEqual([]);
  });

  it('signs out everywhere else, then everywhere: each browser’s apps told, refresh tokens refused', async () => {
    const rows = createProviderRows({ prisma: h.prisma });
    const account = await h.account({ label: 'everywhere' });
    const [kept, other] = [h.browser({ 'user-agent': 'Kept/1.0' }), h.browser({ 'user-agent': 'Other/2.0' })];
    const keptWiki = await signInTo(kept, 'wiki', account);
    const otherCrm = await signInTo(other, 'crm', account);

    const sessions = await rows.sessionsOf(account.id);
    expect(sessions).toHaveLength(2);
    const current = await rows.findSession(account.id, { clientId: apps.wiki.id, sid: sidOf(keptWiki) });
    expect(sessions.find((session) => session.uid === current)).toMatchObject({ clientIds: [apps.wiki.id], device: { userAgent: 'Kept/1.0' } });

    expect(await rows.endSessions(account.id, { except: current!, reason: 'revoked' })).toBe(1);
    await expectLogout('crm', account, sidOf(otherCrm));
    expect(await stillSignedIn(kept, 'wiki')).toBe(true);
    expect(await stillSignedIn(other, 'crm')).toBe(false);
    expect(receiver.to('/wiki', account.id)).toEqual([]);

    expect(await rows.endSessions(account.id, { reason: 'revoked', revokeRefreshTokens: true })).toBe(1);
    await expectLogout('wiki', account, sidOf(keptWiki));
    await refreshRefused('wiki', keptWiki);
    await refreshRefused('crm', otherCrm);
    expect(await rows.sessionsOf(account.id)).toEqual([]);
    expect(await h.prisma.sessionDevice.count({ where: { accountId: account.id } })).toBe(0);
  });

  it('records the browser and address a session started on, and when it was last used, written at most every few minutes', async () => {
    const rows = createProviderRows({ prisma: h.prisma });
    const account = await h.account({ label: 'device' });
    const browser = h.browser({ 'user-agent': 'Device/3.0' });
    await signInTo(browser, 'wiki', account);
    const [session] = await rows.sessionsOf(account.id);
    expect(session!.device).toMatchObject({ userAgent: 'Device/3.0', ip: expect.stringContaining('127.0.0.1') });

    const longAgo = new Date(Date.now() - 3600_000);
    const lastSeen = async () => (await rows.sessionsOf(account.id))[0]!.device!.lastSeenAt.getTime();
    await h.prisma.sessionDevice.update({ where: { sessionUid: session!.uid }, data: { lastSeenAt: longAgo } });
    expect(await stillSignedIn(browser, 'wiki')).toBe(true);
    expect(await lastSeen()).toBeGreaterThan(longAgo.getTime());
    // Used again within minutes: not written again.
    await h.prisma.sessionDevice.update({ where: { sessionUid: session!.uid }, data: { lastSeenAt: longAgo } });
    expect(await stillSignedIn(browser, 'wiki')).toBe(true);
    expect(await lastSeen()).toBe(longAgo.getTime());
  });

  it('tells the apps when a password reset ends the sessions', async () => {
    const account = await h.account({ label: 'reset' });
    const browser = h.browser();
    const wiki = await signInTo(browser, 'wiki', account);

    const asking = h.browser();
    const forgot = await asking.open(`${h.f.issuer}/account/forgot`);
    await asking.submit(forgot, { email: account.email });
    const form = await asking.open((await h.latest(account.email, 'reset-password')).link!);
    await asking.submit(form, { password: 'a brand new harbour password 42' });

    await expectLogout('wiki', account, sidOf(wiki));
    await refreshRefused('wiki', wiki);
  });

  it('tells the apps when an admin disables the account (users disable)', async () => {
    const account = await h.account({ label: 'disabled' });
    const browser = h.browser();
    const wiki = await signInTo(browser, 'wiki', account);
    const crm = await signInTo(browser, 'crm', account);

    expect((await admin('users', 'disable', account.id)).code).toBe(0);
    await expectLogout('wiki', account, sidOf(wiki));
    await expectLogout('crm', account, sidOf(crm));
    await refreshRefused('crm', crm);
    expect(await stillSignedIn(browser, 'wiki')).toBe(false);
  });

  it('delivers the token after the app’s endpoint was down for a while', async () => {
    const account = await h.account({ label: 'down' });
    let refused = 0;
    receiver.answer = (request) => {
      if (request.claims.sub !== account.id || refused === 2) return 200;
      refused++;
      return 503;
    };
    try {
      const browser = h.browser();
      const crm = await signInTo(browser, 'crm', account);
      const confirm = await browser.open(oidc.buildEndSessionUrl(apps.crm.config, { id_token_hint: crm.id_token! }).href);
      await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });

      // Each failure is retried later (BACKCHANNEL_LOGOUT_RETRY_DELAY): brought forward here.
      await eventually(async () => {
        await h.prisma.backchannelLogout.updateMany({ where: { sub: account.id, status: 'pending', attempts: { gt: 0 }, lastError: { not: null } }, data: { nextAttemptAt: new Date() } });
        return receiver.to('/crm', account.id).length > 0;
      }, 'the logout token after two refusals');
      await expectLogout('crm', account, sidOf(crm));
      expect(refused).toBe(2);
      const [row] = await h.prisma.backchannelLogout.findMany({ where: { sub: account.id } });
      await eventually(async () => (await h.prisma.backchannelLogout.findUnique({ where: { id: row!.id } }))!.status === 'delivered', 'the delivery recorded');
      expect(await h.prisma.backchannelLogout.findUnique({ where: { id: row!.id } })).toMatchObject({ status: 'delivered', attempts: 3 });
    } finally {
      receiver.answer = () => 200;
    }
  });

  it('registers, shows, changes and removes an app’s back-channel logout URI with the CLI, refusing what is not https', async () => {
    const added = parsed(await admin('clients', 'add', '--name', 'Logout app', '--redirect-uri', 'https://app.example.com/cb', '--backchannel-logout-uri', 'https://app.example.com/logout', '--json'));
    expect(added).toMatchObject({ backchannel_logout_uri: 'https://app.example.com/logout' });
    const id = added.client_id as string;
    expect((await admin('clients', 'show', id)).stdout).toMatch(/back-channel logout:\s+https:\/\/app\.example\.com\/logout/);

    expectRefused(await admin('clients', 'add', '--name', 'Plain', '--redirect-uri', 'https://plain.example.com/cb', '--backchannel-logout-uri', 'http://plain.example.com/logout'), /must use https/);
    expectRefused(await admin('clients', 'add', '--name', 'Loop', '--redirect-uri', 'https://loop.example.com/cb', '--backchannel-logout-uri', 'http://127.0.0.1:9/logout'), /loopback address/);
    expect(parsed(await admin('clients', 'add', '--name', 'Dev', '--development', '--redirect-uri', 'http://localhost:3000/cb', '--backchannel-logout-uri', 'http://localhost:3000/logout', '--json'))).toMatchObject({ backchannel_logout_uri: 'http://localhost:3000/logout' });

    expect(parsed(await admin('clients', 'update', id, '--backchannel-logout-uri', 'https://app.example.com/bcl', '--json'))).toMatchObject({ backchannel_logout_uri: 'https://app.example.com/bcl', redirect_uris: ['https://app.example.com/cb'] });
    expect(parsed(await admin('clients', 'update', id, '--no-backchannel-logout-uri', '--json'))).toMatchObject({ backchannel_logout_uri: null });
    expectRefused(await admin('clients', 'update', id), /nothing to change/, 2);
  });
});
