// The account page without JavaScript (the cookie-jar browser), on both stores: every change a
// person makes there, seen from outside — the pages, the mail, and what apps get afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.ts';
import { Browser } from '../support/browser.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { refreshOutcome } from '../support/pages.ts';
import { RP } from '../support/fixture.ts';
import { INTRANET_CB, startFederation } from '../federation/harness.ts';
import type { Federation } from '../federation/harness.ts';
import { alert, fieldError, firefoxOnWindows, heading, notice, safariOnMac, signInToAccount, submitOn } from './harness.ts';

describe.each(STORES)('the account page without JavaScript (%s)', (kind) => {
  let h: Federation;
  let n = 0;
  const browser = (headers: Record<string, string> = {}) => {
    n++;
    const b = new Browser(h.f.issuer, { 'x-forwarded-for': `10.9.${n >> 8}.${n & 255}`, ...headers });
    b.alsoFollows.push(h.google.issuer);
    return b;
  };
  /** The intranet (first party, refresh tokens) signed in through `b`: its tokens. */
  const intranetTokens = async (b: Browser, email: string, password: string) => {
    const flow = await beginSignIn(h.intranet, INTRANET_CB);
    return redeem(h.intranet, flow, await signIn(b, flow, email, password));
  };

  beforeAll(async () => {
    h = await startFederation(kind);
  }, 180_000);
  afterAll(async () => h?.stop());

  it('is reached from the start page by signing in through Sésame, as its own app', async () => {
    const person = await h.account();
    const b = browser();
    const page = await signInToAccount(h, b, person.email, person.password);
    expect(page.body).toContain('Camille Martin');
    expect(page.body).toContain(person.email);
    // Through /auth as the client sesame-account, with PKCE; no consent page (first party).
    const auth = b.trail.find((step) => step.url.includes('/auth?'))!;
    const params = new URL(auth.url).searchParams;
    expect(params.get('client_id')).toBe('sesame-account');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(b.trail.some((step) => step.url.includes('/consent'))).toBe(false);
    // Every section answers, and leads back to the overview.
    for (const section of ['names', 'email', 'password', 'linked', 'security', 'sessions', 'apps']) {
      const shown = await b.open(`${h.f.issuer}/account/${section}`);
      expect(shown.status, `${section}: ${shown.body.slice(0, 500)}`).toBe(200);
      expect(shown.doc.querySelector('a[href="/account"]'), section).toBeTruthy();
    }
    // In French too, through the language link every page has.
    const sessions = await b.open(`${h.f.issuer}/account/sessions`);
    const french = await b.open(new URL(sessions.doc.querySelector('a[hreflang="fr"]')!.getAttribute('href')!, sessions.url).href);
    expect(heading(french)).toBe('Où vous êtes connecté');
    expect(french.body).toContain('Se déconnecter partout');
  });

  it('changes the names, which apps then read in the ID token and from userinfo', async () => {
    const person = await h.account();
    const b = browser();
    await signInToAccount(h, b, person.email, person.password);
    const refused = await submitOn(b, `${h.f.issuer}/account/names`, '/account/names', { given_name: ' ', family_name: 'Dupont' });
    expect(refused.status).toBe(400);
    expect(fieldError(refused, 'given_name')).toBeTruthy();
    const saved = await submitOn(b, `${h.f.issuer}/account/names`, '/account/names', { given_name: 'Dominique', family_name: 'Dupont' });
    expect(notice(saved)).toBe('Your name was saved.');
    const tokens = await intranetTokens(b, person.email, person.password);
    expect(tokens.claims()).toMatchObject({ given_name: 'Dominique', family_name: 'Dupont' });
    const userinfo = await oidc.fetchUserInfo(h.intranet, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo).toMatchObject({ given_name: 'Dominique', family_name: 'Dupont', name: 'Dominique Dupont' });
  });

  it('refuses a change without its CSRF token (403)', async () => {
    const person = await h.account();
    const b = browser();
    await signInToAccount(h, b, person.email, person.password);
    const response = await b.request(`${h.f.issuer}/account/names`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.f.issuer },
      body: new URLSearchParams({ given_name: 'Mallory', family_name: 'Evil' }),
    });
    expect(response.status).toBe(403);
    expect((await h.f.server.sesame.users.findById(person.id))?.givenName).toBe('Camille');
  });

  it('changes the e-mail address once the new one is confirmed by its link; the old one is told', async () => {
    const person = await h.account();
    const b = browser();
    await signInToAccount(h, b, person.email, person.password);
    const newEmail = `moved.${person.id.slice(0, 8)}@example.net`;
    const sent = await submitOn(b, `${h.f.issuer}/account/email`, '/account/email', { email: newEmail });
    expect(notice(sent)).toContain('We sent a link');
    const [mail] = await h.inbox(newEmail, 'confirm-new-email');
    const link = mail!.links.find((url) => url.includes('/account/email/confirm?token='))!;
    expect(link).toBeTruthy();
    // Opened in another browser (a phone): the GET only shows a button.
    const phone = browser();
    const confirmPage = await phone.open(link);
    expect(heading(confirmPage)).toBe('Confirm your new address');
    expect((await h.f.server.sesame.users.findById(person.id))?.email).toBe(person.email);
    const confirmed = await phone.submit(confirmPage, {});
    expect(heading(confirmed)).toBe('Your address was changed');
    const [told] = await h.inbox(person.email, 'security-change');
    expect(told!.text).toContain(newEmail);
    // The link works once.
    expect((await phone.open(link)).status).toBe(400);
    // The new address signs in, the old one does not.
    await signInToAccount(h, browser(), newEmail, person.password);
    const old = await (async () => {
      const other = browser();
      const home = await other.open(`${h.f.issuer}/account`);
      return other.submit(home, { email: person.email, password: person.password });
    })();
    expect(heading(old)).toBe('Sign in');
    expect(alert(old)).toBe('The e-mail address or password is incorrect.');
  });

  it('answers the same for an address another account has, and sends it nothing', async () => {
    const person = await h.account();
    const other = await h.account();
    const b = browser();
    await signInToAccount(h, b, person.email, person.password);
    const sent = await submitOn(b, `${h.f.issuer}/account/email`, '/account/email', { email: other.email });
    expect(notice(sent)).toContain('We sent a link');
    expect(await h.inbox(other.email, 'confirm-new-email')).toHaveLength(0);
    expect((await h.f.server.sesame.users.findById(person.id))?.email).toBe(person.email);
  });

  it('changes the password: the current one is asked, other sessions end on request, the address is told', async () => {
    const person = await h.account();
    const elsewhere = browser();
    const appTokens = await intranetTokens(elsewhere, person.email, person.password);
    expect(await refreshOutcome(h.intranet, appTokens.refresh_token!)).toBe('ok');
    const b = browser();
    await signInToAccount(h, b, person.email, person.password);
    const newPassword = 'amber lighthouse quietly sings';
    const wrong = await submitOn(b, `${h.f.issuer}/account/password`, '/account/password', { current: 'not my password at all', password: newPassword });
    expect(wrong.status).toBe(400);
    expect(fieldError(wrong, 'current')).toBe('This is not your current password.');
    const changed = await submitOn(b, `${h.f.issuer}/account/password`, '/account/password', { current: person.password, password: newPassword, sign_out_others: 'on' });
    expect(notice(changed)).toBe('Your password was changed.');
    expect(await h.inbox(person.email, 'password-changed')).toHaveLength(1);
    // The other browser's session ended, and with it the app's refresh token; this one goes on.
    const rotated = (await oidc.refreshTokenGrant(h.intranet, appTokens.refresh_token!).catch(() => null))?.refresh_token;
    expect(rotated ?? null).toBeNull();
    expect(heading(await b.open(`${h.f.issuer}/account/password`))).toBe('Password');
    await signInToAccount(h, browser(), person.email, newPassword);
  });

  it('lists the sessions with browser and system, marks this one, and signs out one, the others, or everywhere', async () => {
    const person = await h.account();
    const firefox = browser(firefoxOnWindows);
    await signInToAccount(h, firefox, person.email, person.password);
    const second = browser(firefoxOnWindows);
    const appTokens = await intranetTokens(second, person.email, person.password);
    const third = browser(safariOnMac);
    await signInToAccount(h, third, person.email, person.password);
    const thirdNames = await third.open(`${h.f.issuer}/account/names`);

    let page = await firefox.open(`${h.f.issuer}/account/sessions`);
    const items = page.doc.querySelectorAll('.account-item');
    expect(items).toHaveLength(3);
    expect(items[0]!.getAttribute('aria-current')).toBe('true');
    expect(items[0]!.text).toContain('Firefox 128 on Windows');
    expect(items[0]!.text).toContain('This device');
    expect(page.body).toContain('Intranet');

    // One: the third browser's session (signed in to the account page only).
    const mac = items.filter((item) => item.text.includes('Safari 17 on macOS'));
    expect(mac).toHaveLength(1);
    page = await firefox.submit(page, {}, { selector: `form[action="${mac[0]!.querySelector('form')!.getAttribute('action')}"]` });
    expect(notice(page)).toBe('That session was signed out.');
    expect(page.doc.querySelectorAll('.account-item')).toHaveLength(2);
    // Signed out there: a form sent from that browser leads to signing in again, then back to
    // its page, which says the change was not made.
    const asked = await third.submit(thirdNames, { given_name: 'Late', family_name: 'Change' });
    expect(heading(asked)).toBe('Sign in');
    const back = await third.submit(asked, { email: person.email, password: person.password });
    expect(back.url).toBe(`${h.f.issuer}/account/names?again=1`);
    expect(notice(back)).toContain('Your change was not made yet');
    expect((await h.f.server.sesame.users.findById(person.id))?.givenName).toBe('Camille');

    // The others: the intranet's session ends (its refresh token does not outlive it).
    page = await submitOn(firefox, `${h.f.issuer}/account/sessions`, '/account/sessions/end-others');
    expect(notice(page)).toBe('Your other sessions were signed out.');
    expect(page.doc.querySelectorAll('.account-item')).toHaveLength(1);
    expect(await refreshOutcome(h.intranet, appTokens.refresh_token!)).toBe('invalid_grant');

    // Everywhere: this one too, every refresh token, and a notice.
    const offline = browser();
    const offlineFlow = await beginSignIn(h.intranet, INTRANET_CB);
    const kept = await redeem(h.intranet, offlineFlow, await signIn(offline, offlineFlow, person.email, person.password));
    page = await submitOn(firefox, `${h.f.issuer}/account/sessions`, '/account/sessions/end-everywhere');
    expect(heading(page)).toBe('You are signed out everywhere');
    expect(await refreshOutcome(h.intranet, kept.refresh_token!)).toBe('invalid_grant');
    expect(heading(await firefox.open(`${h.f.issuer}/account`))).toBe('Sign in');
    const notices = await h.inbox(person.email, 'security-change');
    expect(notices.some((mail) => mail.text.includes('signed out'))).toBe(true);
  });

  it('lists the apps allowed with what they see; revoking stops their tokens and the next sign-in asks again', async () => {
    const person = await h.account();
    const wiki = await discover(h.f.issuer, h.f.web.id, h.f.web.secret);
    const b = browser();
    const flow = await beginSignIn(wiki, `${RP}/cb`);
    const tokens = await redeem(wiki, flow, await signIn(b, flow, person.email, person.password, 'allow'));
    await signInToAccount(h, b, person.email, person.password);
    let page = await b.open(`${h.f.issuer}/account/apps`);
    const item = page.doc.querySelector('.account-item')!;
    expect(item.text).toContain('Wiki <b>&</b>');
    expect(item.text).toContain('See your e-mail address');
    page = await b.submit(page, {}, { selector: `form[action$="/revoke"]` });
    expect(notice(page)).toBe('The app’s access was removed.');
    expect(page.doc.querySelector('.account-item')).toBeNull();
    expect(await refreshOutcome(wiki, tokens.refresh_token!)).toBe('invalid_grant');
    const introspected = await oidc.tokenIntrospection(wiki, tokens.access_token);
    expect(introspected.active).toBe(false);
    const again = await beginSignIn(wiki, `${RP}/cb`);
    const consent = await b.open(again.url);
    expect(consent.doc.querySelector('button[name="decision"]')).toBeTruthy();
  });

  it('asks for the last way to sign in to stay: Google unlinks only when a password or passkey remains; links through Google', async () => {
    // An account made by signing in with Google: no password, no passkey.
    const who = h.googleAccount();
    const g = browser();
    h.google.next = who;
    const start = await g.open(`${h.f.issuer}/account`);
    const page0 = await g.submit(start, {}, { selector: 'form[action$="/federated/google"]' });
    expect(heading(page0), page0.body.slice(0, 1000)).toBe('Your account');
    let page = await submitOn(g, `${h.f.issuer}/account/linked`, '/unlink');
    expect(alert(page)).toContain('only way to sign in');
    // With a password set (a recent sign-in proves it is them), unlinking is allowed.
    page = await submitOn(g, `${h.f.issuer}/account/password`, '/account/password', { password: 'velvet compass harbour dawn' });
    expect(notice(page)).toBe('Your password was set.');
    page = await submitOn(g, `${h.f.issuer}/account/linked`, '/unlink');
    expect(notice(page)).toBe('The account was unlinked.');

    // A password account links a Google account through the stand-in.
    const person = await h.account();
    const b = browser();
    await signInToAccount(h, b, person.email, person.password);
    const google = h.googleAccount();
    h.google.next = google;
    const confirm = await submitOn(b, `${h.f.issuer}/account/linked`, '/link');
    expect(heading(confirm), confirm.body.slice(0, 1500)).toBe('Link your Google account');
    page = await b.submit(confirm, {});
    expect(notice(page)).toBe('The account was linked.');
    expect(page.body).toContain(google.email);
    // The Google identity now signs in to that account; linking it to another account is refused.
    const other = await h.account();
    const o = browser();
    await signInToAccount(h, o, other.email, other.password);
    h.google.next = google;
    const taken = await o.submit(await submitOn(o, `${h.f.issuer}/account/linked`, '/link'), {});
    expect(alert(taken)).toBe('This account is already linked to another account here.');
  });

  it('enrols an authenticator app with a code computed from the shown secret, and shows recovery codes once', async () => {
    const { Secret, TOTP } = await import('otpauth');
    const person = await h.account();
    const b = browser();
    await signInToAccount(h, b, person.email, person.password);
    let page = await submitOn(b, `${h.f.issuer}/account/security`, '/totp/begin');
    const secret = page.doc.querySelector('code.secret')!.text.trim();
    expect(page.doc.querySelector('.qr svg')).toBeTruthy();
    const wrong = await b.submit(page, { code: '000000' }, { selector: 'form[action$="/totp/confirm"]' });
    expect(wrong.status).toBe(400);
    const code = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate();
    page = await b.submit(wrong, { code }, { selector: 'form[action$="/totp/confirm"]' });
    expect(notice(page)).toBe('The authenticator app is set up.');
    expect((await h.inbox(person.email, 'security-change')).length).toBeGreaterThan(0);

    page = await submitOn(b, `${h.f.issuer}/account/security`, '/recovery-codes');
    const codes = page.doc.querySelectorAll('.recovery-codes code').map((element) => element.text.trim());
    expect(codes).toHaveLength(10);
    const later = await b.open(`${h.f.issuer}/account/security`);
    expect(later.doc.querySelectorAll('.recovery-codes code')).toHaveLength(0);
    expect(later.body).toContain('10 unused recovery codes');
    for (const shown of codes) expect(later.body).not.toContain(shown);
  });

  it('answers what a person sends with a page, never a 500, and every page has a way on', async () => {
    const person = await h.account();
    const b = browser();
    const page = await signInToAccount(h, b, person.email, person.password);
    const csrf = page.doc.querySelector('input[name="csrf"]')!.getAttribute('value')!;
    const post = (path: string, fields: Record<string, string> = {}) =>
      b.request(`${h.f.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.f.issuer }, body: new URLSearchParams({ csrf, ...fields }) });
    const answers = [
      await b.request(`${h.f.issuer}/account/sign-in?return=https://evil.example/`),
      await b.request(`${h.f.issuer}/account/callback?code=forged&state=forged`),
      await b.request(`${h.f.issuer}/account/email/confirm?token=nonsense`),
      await b.request(`${h.f.issuer}/interaction/not-ours/account-link/google/callback?code=x&state=y`),
      await post('/account/sessions/does-not-exist/end'),
      await post(`/account/apps/${'x'.repeat(300)}/revoke`),
      await post('/account/linked/nowhere/link'),
      await post('/account/linked/google/finish', { pending: 'forged.seal' }),
      await post('/account/email/confirm', { token: 'nonsense' }),
      await post('/account/security/totp/confirm', { code: 'abc' }),
    ];
    for (const answer of answers) expect(answer.status, answer.url).toBeLessThan(500);
    // The return address of a sign-in is always one of the account's own pages.
    expect(answers[0]!.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
    const flowCookie = (await b.jar.getCookies(`${h.f.issuer}/account/callback`)).find((cookie) => cookie.key === 'sesame-account-flow');
    expect(flowCookie?.value ?? '').not.toContain('evil');
    const expired = await b.open(`${h.f.issuer}/account/callback?code=forged&state=forged`);
    expect(expired.doc.querySelector('a[href^="/account/sign-in"]')).toBeTruthy();
  });

  it('keeps its client built in: listed as such, and never changed, disabled or removed by an admin', async () => {
    const { clients } = h.f.server.sesame;
    const record = await clients.get('sesame-account');
    expect(record.source).toBe('built-in');
    expect(record.definition).toMatchObject({ public: true, first_party: true, redirect_uris: [`${h.f.issuer}/account/callback`], post_logout_redirect_uris: [`${h.f.issuer}/`] });
    const refusals = [
      clients.remove('sesame-account'),
      clients.setDisabled('sesame-account', true),
      clients.rotateSecret('sesame-account'),
      clients.update('sesame-account', { client_name: 'Mine now', redirect_uris: ['https://evil.example/cb'], public: true }),
    ];
    for (const refusal of refusals) await expect(refusal).rejects.toThrow(/built into Sésame/);
    expect((await clients.get('sesame-account')).definition.redirect_uris).toEqual([`${h.f.issuer}/account/callback`]);
  });

  it('signs out through Sésame (RP-initiated logout with id_token_hint)', async () => {
    const person = await h.account();
    const b = browser();
    const page = await signInToAccount(h, b, person.email, person.password);
    const confirm = await b.submit(page, {}, { selector: 'form[action="/account/sign-out"]' });
    expect(b.trail.some((step) => step.url.includes('/session/end?') && step.url.includes('id_token_hint='))).toBe(true);
    const done = await b.submit(confirm, {}, { selector: 'form', button: { name: 'logout', value: 'yes' } });
    expect(done.url).toBe(`${h.f.issuer}/`);
    expect(heading(await b.open(`${h.f.issuer}/account`))).toBe('Sign in');
  });
});
