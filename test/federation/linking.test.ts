// Issue 4, linking a Google sign-in to an existing account (checklist 54). When Google vouches
// for the address of an existing, verified account, the person must prove control of that
// account before the two are linked: its password (a wrong one counts toward the account's
// slow-down), or a link e-mailed to its address (shown by GET, used by POST, once). Once linked,
// Google alone signs in. Without Google's word on the address there is nothing to prove: refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import {
  alertOf,
  click,
  expectLoginPageSaying,
  heading,
  openSignIn,
  SAYS,
  signInWithGoogle,
  startFederation,
  subjectViaGoogle,
  tokensFor,
} from './harness.ts';
import type { Account, Federation, GoogleAccount } from './harness.ts';

describe.each(STORES)('linking Google to an existing account (%s)', (kind) => {
  let h: Federation;

  beforeAll(async () => {
    h = await startFederation(kind);
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** A verified local account, and a Google account (never seen) that vouches for its address. */
  async function owner(): Promise<{ account: Account; google: GoogleAccount }> {
    const account = await h.account();
    return { account, google: { ...h.googleAccount(), email: account.email } };
  }

  /** Signs in with Google as `google` in a new sign-in; expects the linking page. */
  async function linkPage(browser: Browser, google: GoogleAccount) {
    const { flow, page } = await signInWithGoogle(h, browser, google);
    expect(page.stoppedAt, 'signed in without proof').toBeUndefined();
    expect(page.status).toBe(200);
    expect(heading(page)).toBe(SAYS.linkTitle);
    return { flow, page };
  }

  const passwordLogin = async (browser: Browser, email: string, password: string) => {
    h.keep(password);
    const { page } = await openSignIn(h, browser);
    return browser.submit(page, { email, password });
  };

  it('asks a verified account for proof: its password, or a link sent to its address', async () => {
    const { account, google } = await owner();
    const { page } = await linkPage(h.browser(), google);
    expect(page.body).toContain(account.email);
    expect(page.doc.querySelector('input[name="password"][type="password"]')).not.toBeNull();
    const sendLink = page.doc.querySelectorAll('button').find((button) => button.text.trim() === 'Send me a link');
    expect(sendLink).toBeDefined();
  });

  it('links with the right password and signs in; from then on Google alone signs in', async () => {
    const { account, google } = await owner();
    const browser = h.browser();
    const { flow, page } = await linkPage(browser, google);
    const done = await browser.submit(page, { password: account.password });
    expect((await tokensFor(h, flow, done)).claims()).toMatchObject({ sub: account.id, email: account.email });

    expect(await subjectViaGoogle(h, h.browser(), google)).toBe(account.id);
    // The password still works too.
    expect((await passwordLogin(h.browser(), account.email, account.password)).stoppedAt).toBeDefined();
  });

  it('does not link with a wrong password (401), and counts it toward the account slow-down', async () => {
    const { account, google } = await owner();
    const browser = h.browser();
    let { page } = await linkPage(browser, google);
    for (let attempt = 1; attempt <= 5; attempt++) {
      page = await browser.submit(page, { password: `wrong guess number ${attempt}` });
      expect(page.status).toBe(401);
      expect(heading(page)).toBe(SAYS.linkTitle);
      expect(alertOf(page)).toBe(SAYS.wrongPassword);
    }
    // Five failures on the linking form: the right password at the login form must now wait.
    const login = await passwordLogin(h.browser(), account.email, account.password);
    expect(login.status).toBe(429);
    expect(heading(login)).toBe('Too many attempts');

    // And nothing was linked.
    await linkPage(h.browser(), google);
  });

  async function askForLink(browser: Browser, account: Account, google: GoogleAccount) {
    const { flow, page } = await linkPage(browser, google);
    const sent = await browser.submit(page, { action: 'email' }, { selector: 'form.aside' });
    expect(sent.status).toBe(200);
    expect(heading(sent)).toBe(SAYS.inbox);
    expect(sent.doc.querySelector('[role="status"]')?.text).toContain(account.email);
    const mails = await h.inbox(account.email, 'link-account');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.link).toMatch(new RegExp(`^${h.f.issuer}/account/link\\?token=`));
    return { flow, link: mails[0]!.link! };
  }

  it('e-mails a link to the account address that links once followed: GET shows a form, POST links, once', async () => {
    const { account, google } = await owner();
    const browser = h.browser();
    const { flow, link } = await askForLink(browser, account, google);

    // Opening the link (a mail scanner would) links nothing yet.
    const form = await browser.open(link);
    expect(form.status).toBe(200);
    expect(heading(form)).toBe(SAYS.linkTitle);
    expect(form.body).toContain(account.email);
    expect(form.headers.get('referrer-policy')).toBe('strict-origin');
    await linkPage(h.browser(), google);

    const done = await browser.submit(form, {});
    expect(done.status).toBe(200);
    expect(heading(done)).toBe(SAYS.linkDone);

    // Continuing the sign-in it was asked from: Google now signs in directly.
    const login = await click(browser, done, 'a.button');
    expect(heading(login)).toBe(SAYS.signIn);
    const back = await browser.submit(login, {}, { selector: 'form[action$="/federated/google"]' });
    expect((await tokensFor(h, flow, back)).claims()).toMatchObject({ sub: account.id });
    expect(await subjectViaGoogle(h, h.browser(), google)).toBe(account.id);

    // The link works once.
    const again = await h.browser().open(link);
    expect(again.status).toBe(400);
    expect(heading(again)).toBe(SAYS.linkInvalid);
    const replayer = h.browser();
    const csrf = (await replayer.open(`${h.f.issuer}/account/forgot`)).doc.querySelector('input[name="csrf"]')!.getAttribute('value')!;
    const replay = await replayer.submit(form, { csrf });
    expect(replay.status).toBe(400);
    expect(heading(replay)).toBe(SAYS.linkInvalid);
  });

  it('honours the e-mailed link even when the password has linked the same Google account meanwhile', async () => {
    const { account, google } = await owner();
    const { link } = await askForLink(h.browser(), account, google);
    // Meanwhile the person remembered the password, and linked with it.
    const browser = h.browser();
    const { flow, page } = await linkPage(browser, google);
    await tokensFor(h, flow, await browser.submit(page, { password: account.password }));

    const mailClient = h.browser();
    const done = await mailClient.submit(await mailClient.open(link), {});
    expect(done.status, done.body.slice(0, 400)).toBe(200);
    expect(heading(done)).toBe(SAYS.linkDone);
    expect(await subjectViaGoogle(h, h.browser(), google)).toBe(account.id);
  });

  it('refuses a tampered or foreign `pending` field', async () => {
    const { account, google } = await owner();
    const other = await h.account();
    const browser = h.browser();
    const { page } = await linkPage(browser, google);
    const sealed = page.doc.querySelector('input[name="pending"]')!.getAttribute('value')!;
    const [body, signature] = sealed.split('.') as [string, string];
    const pending = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { userId: string };
    const forged = Buffer.from(JSON.stringify({ ...pending, userId: other.id })).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);

    for (const tampered of [`${forged}.${signature}`, `${body}.${flipped}`, body, '', 'not-even-close']) {
      const refused = await browser.submit(page, { pending: tampered, password: other.password });
      expectLoginPageSaying(refused, SAYS.failed);
    }

    // A genuine seal from another sign-in of the same person does not fit this one either.
    const elsewhere = await linkPage(h.browser(), google);
    const foreign = elsewhere.page.doc.querySelector('input[name="pending"]')!.getAttribute('value')!;
    expectLoginPageSaying(await browser.submit(page, { pending: foreign, password: account.password }), SAYS.failed);

    // Nothing was linked to either account.
    await linkPage(h.browser(), google);
    const otherPassword = await passwordLogin(h.browser(), other.email, other.password);
    expect(otherPassword.stoppedAt).toBeDefined();
  });

  it('refuses without proof when Google has not verified the address of an existing account', async () => {
    const before = await h.prisma.user.count();
    for (const verified of [true, false]) {
      const account = await h.account({ verified });
      const google = { ...h.googleAccount(), email: account.email, email_verified: false };
      const { page } = await signInWithGoogle(h, h.browser(), google);
      expectLoginPageSaying(page, SAYS.unverified);
      expect(page.doc.querySelector('input[name="pending"]')).toBeNull();

      // Not linked, no account of its own: the same answer the next time.
      const again = await signInWithGoogle(h, h.browser(), google);
      expectLoginPageSaying(again.page, SAYS.unverified);
      // The account is untouched: its password still opens it (an unverified one at the confirmation step).
      const login = await passwordLogin(h.browser(), account.email, account.password);
      if (verified) expect(login.stoppedAt).toBeDefined();
      else expect(heading(login)).toBe(SAYS.verifyTitle);
    }
    expect(await h.prisma.user.count()).toBe(before + 2);
  });

  it('never logs the Google client secret, codes or tokens', () => {
    expect(h.secretsInLogs()).toEqual([]);
  });
});
