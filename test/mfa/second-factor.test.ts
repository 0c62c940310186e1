// Issue 10, parts 3 and 4: a second factor at sign-in. An account with an authenticator app
// gives a code after its password, and no session exists before it; each code works once, wrong
// ones are limited; a recovery code works once and tells the owner; acr_values and a client
// registered with require_mfa ask for a second factor, and an account without one enrols then;
// a session signed in with one factor steps up without the password again. The ID token says
// how, as openid-client reads it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.ts';
import { RP } from '../support/fixture.ts';
import { beginSignIn, discover, redeem } from '../support/rp.ts';
import { alertOf, click, heading, openSignIn, startFederation, tokensFor } from '../federation/harness.ts';
import type { Federation, Page } from '../federation/harness.ts';
import { ACR_MFA, ACR_ONE_FACTOR, codeAt, expectCodePage, giveRecoveryCodes, giveTotp, SAYS, secretOnEnrolPage, wrongCode } from './helpers.ts';

describe.each(STORES)('second factors at sign-in (%s)', (kind) => {
  let h: Federation;

  beforeAll(async () => {
    h = await startFederation(kind);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const passwordPage = async (browser = h.browser(), params: Record<string, string> = {}) => {
    const account = await h.account();
    const { flow, page } = await openSignIn(h, browser, params);
    return { account, browser, flow, login: page };
  };
  const submitPassword = (h2: { browser: ReturnType<Federation['browser']>; login: Page; account: { email: string; password: string } }) =>
    h2.browser.submit(h2.login, { email: h2.account.email, password: h2.account.password });

  it('publishes both levels, and says a password alone is one factor', async () => {
    expect(h.intranet.serverMetadata().acr_values_supported).toEqual([ACR_ONE_FACTOR, ACR_MFA]);
    const attempt = await passwordPage();
    const page = await submitPassword(attempt);
    const claims = (await tokensFor(h, attempt.flow, page)).claims()!;
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe(ACR_ONE_FACTOR);
  });

  it('asks an account with an authenticator app for a code before any session exists, and accepts each code once', async () => {
    const attempt = await passwordPage();
    const secret = await giveTotp(h, attempt.account);
    const codePage = await submitPassword(attempt);
    expectCodePage(codePage);

    // The password alone opened no session: another sign-in in this browser starts from scratch.
    const again = await openSignIn(h, attempt.browser);
    expect(again.page.doc.querySelector('input[name="password"]')).not.toBeNull();

    const code = codeAt(secret);
    const done = await attempt.browser.submit(codePage, { code });
    const claims = (await tokensFor(h, attempt.flow, done)).claims()!;
    expect(claims.sub).toBe(attempt.account.id);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe(ACR_MFA);

    // The same code, in another browser that knows the password: refused.
    const thief = h.browser();
    const { page: login } = await openSignIn(h, thief);
    const replay = await thief.submit(await thief.submit(login, { email: attempt.account.email, password: attempt.account.password }), { code });
    expect(replay.stoppedAt).toBeUndefined();
    expect(replay.status).toBe(401);
    expect(replay.doc.querySelector('.field-error')?.text.trim()).toBe(SAYS.wrongCode);
    expect(replay.doc.querySelector('#code')?.getAttribute('aria-describedby')).toBe('code-error');
  });

  it('limits wrong codes per account, like passwords', async () => {
    const attempt = await passwordPage();
    const secret = await giveTotp(h, attempt.account);
    let page = await submitPassword(attempt);
    for (let i = 0; i < 5; i++) {
      page = await attempt.browser.submit(page, { code: wrongCode(secret) });
      expect(page.status).toBe(401);
    }
    // From another address too: the account's limit, not the browser's.
    const other = h.browser();
    const { page: login } = await openSignIn(h, other);
    const codePage = await other.submit(login, { email: attempt.account.email, password: attempt.account.password });
    expectCodePage(codePage);
    const limited = await other.submit(codePage, { code: codeAt(secret) });
    expect(limited.status).toBe(429);
    expect(limited.stoppedAt).toBeUndefined();
  });

  it('signs in with a recovery code once, and tells the owner by e-mail', async () => {
    const attempt = await passwordPage();
    await giveTotp(h, attempt.account);
    const codes = await giveRecoveryCodes(h, attempt.account.id);
    expect(codes).toHaveLength(10);
    const codePage = await submitPassword(attempt);
    const recoveryPage = await click(attempt.browser, codePage, 'a[href$="?factor=recovery"]');
    expect(recoveryPage.doc.querySelector('label[for="code"]')?.text).toBe('Recovery code');
    const done = await attempt.browser.submit(recoveryPage, { code: codes[0]!.toUpperCase() });
    const claims = (await tokensFor(h, attempt.flow, done)).claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe(ACR_MFA);

    const mails = await h.inbox(attempt.account.email, 'security-change');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('A recovery code was used to sign in');
    expect(mails[0]!.text).toContain('9 codes are left');
    expect(mails[0]!.text).not.toContain(codes[0]!);

    const again = h.browser();
    const { page: login } = await openSignIn(h, again);
    const second = await click(again, await again.submit(login, { email: attempt.account.email, password: attempt.account.password }), 'a[href$="?factor=recovery"]');
    const refused = await again.submit(second, { code: codes[0]! });
    expect(refused.status).toBe(401);
    expect(refused.doc.querySelector('.field-error')?.text.trim()).toBe(SAYS.wrongRecovery);
  });

  it('enrols an account without a second factor when the app asks for acr_values=mfa, then shows the recovery codes once', async () => {
    const attempt = await passwordPage(undefined, { acr_values: ACR_MFA });
    const enrol = await submitPassword(attempt);
    const secret = secretOnEnrolPage(enrol);
    expect(enrol.headers.get('content-security-policy')).toContain("script-src 'self'");

    const wrong = await attempt.browser.submit(enrol, { code: wrongCode(secret) });
    expect(wrong.status).toBe(400);
    expect(secretOnEnrolPage(wrong), 'the same secret, drawn again').toBe(secret);

    const codesPage = await attempt.browser.submit(wrong, { code: codeAt(secret) });
    expect(heading(codesPage)).toBe(SAYS.codes);
    const codes = codesPage.doc.querySelectorAll('.recovery-codes code').map((code) => code.text);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const done = await attempt.browser.submit(codesPage, {});
    const claims = (await tokensFor(h, attempt.flow, done)).claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe(ACR_MFA);
    expect((await h.inbox(attempt.account.email, 'security-change')).map((mail) => mail.text).join('\n')).toContain('An authenticator app was set up');

    // The session has both factors now: the next sign-in asking for them goes straight through.
    const { page: next } = await openSignIn(h, attempt.browser, { acr_values: ACR_MFA });
    expect(next.stoppedAt).toContain('code=');
  });

  it('steps a session signed in with a password up to two factors without asking the password again', async () => {
    const attempt = await passwordPage();
    const first = await submitPassword(attempt);
    expect((await tokensFor(h, attempt.flow, first)).claims()!.acr).toBe(ACR_ONE_FACTOR);

    const { flow, page: enrol } = await openSignIn(h, attempt.browser, { acr_values: ACR_MFA });
    const secret = secretOnEnrolPage(enrol);
    const codesPage = await attempt.browser.submit(enrol, { code: codeAt(secret) });
    const done = await attempt.browser.submit(codesPage, {});
    const claims = (await tokensFor(h, flow, done)).claims()!;
    expect(claims.sub).toBe(attempt.account.id);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe(ACR_MFA);

    // Now that the account has an app, a one-factor session is not enough for any app: a new
    // browser signs in with password and code.
    const other = h.browser();
    const { page: login } = await openSignIn(h, other);
    expectCodePage(await other.submit(login, { email: attempt.account.email, password: attempt.account.password }));
  });

  it('asks every sign-in to an app registered with require_mfa for a second factor', async () => {
    const { client, secret: clientSecret } = await h.f.server.sesame.clients.add({
      client_name: 'Payroll',
      redirect_uris: [`${RP}/payroll/cb`],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code'],
      public: false,
      first_party: true,
      require_mfa: true,
    });
    const payroll = await discover(h.f.issuer, client.clientId, clientSecret!);

    // Without a second factor: enrolment.
    const newcomer = await h.account();
    const browser = h.browser();
    const flow = await beginSignIn(payroll, `${RP}/payroll/cb`);
    const enrol = await browser.submit(await browser.open(flow.url), { email: newcomer.email, password: newcomer.password });
    const secret = secretOnEnrolPage(enrol);
    const done = await browser.submit(await browser.submit(enrol, { code: codeAt(secret) }), {});
    expect(done.stoppedAt).toMatch(/^https:\/\/rp\.example\.test\/payroll\/cb\?.*code=/);
    const tokens = await redeem(payroll, flow, done.stoppedAt!);
    expect(tokens.claims()!.acr).toBe(ACR_MFA);

    // A session with one factor (the intranet does not ask for more) meets Payroll: the code, not the password.
    const attempt = await passwordPage();
    await tokensFor(h, attempt.flow, await submitPassword(attempt));
    const stepUp = await attempt.browser.open((await beginSignIn(payroll, `${RP}/payroll/cb`)).url);
    secretOnEnrolPage(stepUp);
  });

  it('asks for the code after a Google sign-in the same way', async () => {
    const who = h.googleAccount();
    const browser = h.browser();
    const first = await openSignIn(h, browser);
    h.google.next = who;
    const signedUp = await browser.submit(first.page, {}, { selector: 'form[action$="/federated/google"]' });
    const sub = (await tokensFor(h, first.flow, signedUp)).claims()!.sub;
    const user = (await h.prisma.user.findUnique({ where: { id: sub } }))!;
    const secret = await giveTotp(h, user);

    const other = h.browser();
    const again = await openSignIn(h, other);
    h.google.next = who;
    const codePage = await other.submit(again.page, {}, { selector: 'form[action$="/federated/google"]' });
    expectCodePage(codePage);
    const done = await other.submit(codePage, { code: codeAt(secret) });
    const claims = (await tokensFor(h, again.flow, done)).claims()!;
    expect(claims.sub).toBe(sub);
    expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'otp', 'mfa']));
    expect(claims.acr).toBe(ACR_MFA);
  });

  it('never leads to a dead end: cancel returns access_denied to the app', async () => {
    const attempt = await passwordPage();
    await giveTotp(h, attempt.account);
    const codePage = await submitPassword(attempt);
    const cancelled = await attempt.browser.submit(codePage, {}, { selector: 'form[action$="/abort"]' });
    expect(new URL(cancelled.stoppedAt!).searchParams.get('error')).toBe('access_denied');
    expect(alertOf(codePage)).toBeUndefined();
  });
});
