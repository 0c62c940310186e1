// Issue 4, checklist 56: accounts made through Google have no password. Trying one at the login
// form is answered exactly like a wrong password; "Forgot your password?" answers exactly as for
// any address, and its e-mail goes to the address Google vouched for, so its owner can choose a
// password and sign in with either from then on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { click, heading, masked, openSignIn, SAYS, startFederation, subjectViaGoogle, tokensFor } from './harness.ts';
import type { Federation, GoogleAccount } from './harness.ts';

describe.each(STORES)('accounts that only ever signed in with Google (%s)', (kind) => {
  let h: Federation;

  beforeAll(async () => {
    h = await startFederation(kind);
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function googleOnly(): Promise<{ google: GoogleAccount; id: string; email: string }> {
    const google = h.googleAccount();
    return { google, id: await subjectViaGoogle(h, h.browser(), google), email: google.email! };
  }

  const tryPassword = async (browser: Browser, email: string, password: string) => {
    h.keep(password);
    const { page } = await openSignIn(h, browser);
    return browser.submit(page, { email, password });
  };

  it('answers a password login exactly like a wrong password', async () => {
    const { email } = await googleOnly();
    const local = await h.account();
    const guess = 'a guess at a password';
    const noPassword = await tryPassword(h.browser(), email, guess);
    const wrongPassword = await tryPassword(h.browser(), local.email, guess);
    const noAccount = await tryPassword(h.browser(), 'nobody.here@example.net', guess);

    expect(noPassword.status).toBe(401);
    expect(noPassword.doc.querySelector('[role="alert"]')?.text.trim()).toBe(SAYS.wrongPassword);
    expect(wrongPassword.status).toBe(401);
    expect(noAccount.status).toBe(401);
    const typed = [email, local.email, 'nobody.here@example.net'];
    expect(masked(noPassword, ...typed)).toBe(masked(wrongPassword, ...typed));
    expect(masked(noPassword, ...typed)).toBe(masked(noAccount, ...typed));
  });

  it('answers "forgot password" as for any address, and the reset works for the owner of the inbox', async () => {
    const { google, id, email } = await googleOnly();
    const ask = async (browser: Browser, address: string) => {
      const { flow, page } = await openSignIn(h, browser);
      const form = await click(browser, page, 'a[href*="/forgot"]');
      return { flow, answer: await browser.submit(form, { email: address }) };
    };

    const browser = h.browser();
    const { flow, answer } = await ask(browser, email);
    const unknown = await ask(h.browser(), 'nobody.here@example.net');
    expect(answer.status).toBe(200);
    expect(heading(answer)).toBe(SAYS.inbox);
    expect(masked(answer, email, 'nobody.here@example.net')).toBe(masked(unknown.answer, email, 'nobody.here@example.net'));

    const [mail] = await h.inbox(email, 'reset-password');
    expect(mail?.link).toBeDefined();
    const resetForm = await browser.open(mail!.link!);
    expect(heading(resetForm)).toBe(SAYS.resetTitle);
    const chosen = 'a password of my own at last';
    h.keep(chosen);
    const done = await browser.submit(resetForm, { password: chosen });
    expect(heading(done)).toBe(SAYS.resetDone);

    // Back in the sign-in the person started: the new password opens the account Google made.
    const login = await click(browser, done, 'a.button');
    expect(heading(login)).toBe(SAYS.signIn);
    const signedIn = await browser.submit(login, { email, password: chosen });
    expect((await tokensFor(h, flow, signedIn)).claims()).toMatchObject({ sub: id, email, email_verified: true });

    // And Google still does.
    expect(await subjectViaGoogle(h, h.browser(), google)).toBe(id);
  });

  it('never logs the Google client secret, codes or tokens', () => {
    expect(h.secretsInLogs()).toEqual([]);
  });
});
