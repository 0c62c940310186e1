// Confirming an address (issue 3): the e-mailed link, the sign-in step that waits for it, the
// profile step, and what relying apps learn (email_verified, names) — with the default policy
// and with ALLOW_UNVERIFIED_EMAIL_SIGN_IN=true.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from '../support/browser.ts';
import { oidc, redeem } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { expectNoSecretsInLogs, heading, openSignIn, register, signInForTokens, startHarness, trySignIn } from './harness.ts';
import type { Harness } from './harness.ts';

const CONFIRMED = 'Your address is confirmed';
const LINK_DEAD = 'This link no longer works';
const ALREADY_CONFIRMED = 'Your address is already confirmed';
const STEP = 'Confirm your e-mail address';

/** Opens a confirmation link and presses its button, as the person does. */
async function confirm(browser: Browser, link: string): Promise<Page> {
  const form = await browser.open(link);
  if (form.status !== 200) return form;
  return browser.submit(form, {});
}

describe.each(STORES)('e-mail verification on %s', (kind) => {
  let h: Harness;
  let people = 0;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  /** Registers a new person in a new browser; returns them with the link they were mailed. */
  async function newPerson() {
    const email = `verify-${++people}@example.com`;
    const password = `copper kestrel ${people} meadow`;
    const browser = h.browser();
    const inbox = await register(h, browser, { email, password });
    expect(heading(inbox)).toBe('Check your inbox');
    const { link } = await h.latest(email, 'verify-email');
    return { email, password, browser, link: link!, inbox };
  }

  it('confirms the address once; the same link then says the address is already confirmed', async () => {
    const person = await newPerson();
    const browser = h.browser();
    const form = await browser.open(person.link);
    const done = await browser.submit(form, {});
    expect(done.status).toBe(200);
    expect(heading(done)).toBe(CONFIRMED);

    const again = await browser.submit(form, {});
    expect(heading(again)).toBe(ALREADY_CONFIRMED);
    expect(heading(await h.browser().open(person.link))).toBe(ALREADY_CONFIRMED);
  });

  it('only shows a form when the link is opened: the address stays unconfirmed until the form is sent', async () => {
    const person = await newPerson();
    // What a mail scanner does: follow the link, twice, without pressing anything.
    const browser = h.browser();
    const form = await browser.open(person.link);
    await h.browser().open(person.link);
    expect(form.status).toBe(200);
    expect(heading(form)).toBe(STEP);
    expect(form.doc.querySelector('form')?.getAttribute('method')).toBe('post');
    expect(await trySignIn(h, h.browser(), person.email, person.password)).toBe(STEP);

    expect(heading(await browser.submit(form, {}))).toBe(CONFIRMED);
    expect(await trySignIn(h, h.browser(), person.email, person.password)).toBe('signed in');
  });

  it('refuses an expired link and leaves the address unconfirmed', async () => {
    const person = await newPerson();
    const browser = h.browser();
    const form = await browser.open(person.link);
    // A day goes by: move the link's expiry into the past instead of waiting.
    await h.prisma.oneTimeToken.updateMany({ where: { email: person.email, purpose: 'verify-email' }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const refused = await browser.submit(form, {});
    expect(refused.status).toBe(400);
    expect(heading(refused)).toBe(LINK_DEAD);
    expect(heading(await h.browser().open(person.link))).toBe(LINK_DEAD);
    expect(await trySignIn(h, h.browser(), person.email, person.password)).toBe(STEP);
  });

  it('stops an unconfirmed sign-in at "check your inbox", and "continue" finishes it only once the address is confirmed', async () => {
    const person = await newPerson();
    const { flow, page } = await openSignIn(h, person.browser);
    const step = await person.browser.submit(page, { email: person.email, password: person.password });
    expect(step.status).toBe(200);
    expect(heading(step)).toBe(STEP);
    expect(step.body).toContain(`Before you continue, open the link we sent to ${person.email}.`);
    expect(step.doc.querySelector('button[value="resend"]')?.text).toBe('Send the link again');
    expect(step.doc.querySelector('button[value="continue"]')).not.toBeNull();
    // The registration's link is still good: none is sent again just for showing the step.
    expect(await h.inbox(person.email, 'verify-email')).toHaveLength(1);

    const notYet = await person.browser.submit(step, {}, { button: { name: 'action', value: 'continue' } });
    expect(notYet.stoppedAt).toBeUndefined();
    expect(notYet.doc.querySelector('[role="status"]')?.text).toBe('Your address is not confirmed yet. Open the link in the message we sent you.');

    // Confirmed on another device (a phone), then "continue" on the computer.
    expect(heading(await confirm(h.browser(), person.link))).toBe(CONFIRMED);
    const back = await person.browser.submit(notYet, {}, { button: { name: 'action', value: 'continue' } });
    const tokens = await redeem(h.intranet, flow, back.stoppedAt!);
    h.keep(tokens.access_token, tokens.refresh_token, tokens.id_token);
    expect(tokens.claims()).toMatchObject({ email: person.email, email_verified: true });
  });

  it('sends the link again on request, and the new link cancels the previous one', async () => {
    const person = await newPerson();
    const { page } = await openSignIn(h, person.browser);
    const step = await person.browser.submit(page, { email: person.email, password: person.password });
    const resent = await person.browser.submit(step, {}, { button: { name: 'action', value: 'resend' } });
    expect(resent.status).toBe(200);
    expect(resent.doc.querySelector('[role="status"]')?.text).toBe(`We sent a new link to ${person.email}.`);

    const links = (await h.inbox(person.email, 'verify-email')).map((mail) => mail.link);
    expect(links).toHaveLength(2);
    expect(links[1]).not.toBe(person.link);
    expect(heading(await confirm(h.browser(), person.link))).toBe(LINK_DEAD);
    expect(heading(await confirm(h.browser(), links[1]!))).toBe(CONFIRMED);
  });

  it('confirms only the account and the address the link was sent for', async () => {
    const a = await newPerson();
    const b = await newPerson();
    expect(heading(await confirm(h.browser(), a.link))).toBe(CONFIRMED);
    expect(await trySignIn(h, h.browser(), a.email, a.password)).toBe('signed in');
    expect(await trySignIn(h, h.browser(), b.email, b.password)).toBe(STEP);

    // The account's address changes after the link was sent (an admin corrects it): the link
    // proved the old address, not the new one.
    const c = await newPerson();
    const browser = h.browser();
    const form = await browser.open(c.link);
    await h.prisma.user.updateMany({ where: { emailKey: c.email }, data: { email: `changed-${c.email}`, emailKey: `changed-${c.email}` } });
    expect(heading(await browser.submit(form, {}))).toBe(LINK_DEAD);
    expect(await trySignIn(h, h.browser(), `changed-${c.email}`, c.password)).toBe(STEP);
  });

  it('mails a link the first time an account made without confirmation signs in', async () => {
    const person = await h.account({ verified: false, label: 'admin-made' });
    expect(await h.inbox(person.email)).toEqual([]);
    expect(await trySignIn(h, h.browser(), person.email, person.password)).toBe(STEP);
    const mail = await h.latest(person.email, 'verify-email');
    expect(heading(await confirm(h.browser(), mail.link!))).toBe(CONFIRMED);
    expect(await trySignIn(h, h.browser(), person.email, person.password)).toBe('signed in');
  });

  it('asks an account without names for them, and the names given reach the ID token', async () => {
    const person = await h.account({ names: false, label: 'nameless' });
    const browser = h.browser();
    const { flow, page } = await openSignIn(h, browser);
    const profile = await browser.submit(page, { email: person.email, password: person.password });
    expect(heading(profile)).toBe('Complete your profile');

    const missing = await browser.submit(profile, { given_name: ' ', family_name: '' });
    expect(missing.status).toBe(400);
    for (const name of ['given_name', 'family_name']) {
      expect(missing.doc.querySelector(`#${name}-error`)?.text).toBe('This field is required.');
      expect(missing.doc.querySelector(`input#${name}`)?.getAttribute('aria-describedby')).toBe(`${name}-error`);
    }

    const done = await browser.submit(missing, { given_name: 'Aïcha', family_name: 'Benali' });
    const tokens = await redeem(h.intranet, flow, done.stoppedAt!);
    h.keep(tokens.access_token, tokens.refresh_token, tokens.id_token);
    expect(tokens.claims()).toMatchObject({ sub: person.id, given_name: 'Aïcha', family_name: 'Benali', name: 'Aïcha Benali' });
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});

describe.each(STORES)('unconfirmed addresses allowed to sign in on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true', ALLOW_UNVERIFIED_EMAIL_SIGN_IN: 'true' });
  });
  afterAll(() => h?.stop());

  it('lets an unconfirmed account finish signing in, and the ID token says email_verified false', async () => {
    const person = await h.account({ verified: false, label: 'unconfirmed' });
    const tokens = await signInForTokens(h, h.browser(), person.email, person.password);
    expect(tokens.claims()).toMatchObject({ sub: person.id, email: person.email, email_verified: false });
    // Nothing asked the person to confirm, so nothing was sent.
    expect(await h.inbox(person.email)).toEqual([]);
  });

  it('follows the address in email_verified: false before the link is used, true after', async () => {
    const email = 'follows@example.com';
    const password = 'amber falcon orchard 7';
    const browser = h.browser();
    await register(h, browser, { email, password });
    const before = await signInForTokens(h, browser, email, password);
    expect(before.claims()?.email_verified).toBe(false);
    expect((await oidc.fetchUserInfo(h.intranet, before.access_token, oidc.skipSubjectCheck)).email_verified).toBe(false);

    const { link } = await h.latest(email, 'verify-email');
    expect(heading(await confirm(h.browser(), link!))).toBe(CONFIRMED);

    const after = await oidc.refreshTokenGrant(h.intranet, before.refresh_token!);
    h.keep(after.access_token, after.refresh_token, after.id_token);
    expect(after.claims()?.email_verified).toBe(true);
    expect((await oidc.fetchUserInfo(h.intranet, after.access_token, oidc.skipSubjectCheck)).email_verified).toBe(true);
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
