// Issue 4, which account a Google sign-in ends in. A new Google identity whose address has no
// account gets one (verified only if Google says so, with Google's names and picture); it then
// signs in to that same account every time, keyed on Google's `sub` and never on the address:
// a changed Google address changes nothing, and another Google account showing the same address
// does not get in without proof. A disabled account stays closed to Google too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidc } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import {
  alertOf,
  click,
  expectLoginPageSaying,
  heading,
  SAYS,
  signInWithGoogle,
  startFederation,
  subjectViaGoogle,
  tokensFor,
} from './harness.ts';
import type { Federation } from './harness.ts';

describe.each(STORES)('accounts behind a Google sign-in (%s)', (kind) => {
  let h: Federation;
  const accountCount = () => h.prisma.user.count();

  beforeAll(async () => {
    h = await startFederation(kind);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('creates a verified account for a new Google identity, with the names and picture Google gives', async () => {
    const who = h.googleAccount({ given_name: 'Gina', family_name: 'Gee', picture: 'https://lh3.googleusercontent.com/a/gina.png' });
    const before = await accountCount();
    const { flow, page } = await signInWithGoogle(h, h.browser(), who);
    const tokens = await tokensFor(h, flow, page);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ email: who.email, email_verified: true, given_name: 'Gina', family_name: 'Gee', name: 'Gina Gee', picture: who.picture });
    expect(claims.sub, 'Sésame gives the account its own subject').not.toBe(who.sub);
    const userinfo = await oidc.fetchUserInfo(h.intranet, tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({ sub: claims.sub, email: who.email, email_verified: true, given_name: 'Gina', family_name: 'Gee', picture: who.picture });
    expect(await accountCount()).toBe(before + 1);
  });

  it('passes on only an https picture', async () => {
    const who = h.googleAccount({ picture: 'http://lh3.googleusercontent.com/a/plain.png' });
    const { flow, page } = await signInWithGoogle(h, h.browser(), who);
    const claims = (await tokensFor(h, flow, page)).claims()!;
    expect(claims.email).toBe(who.email);
    expect(claims).not.toHaveProperty('picture');
  });

  it('creates an unverified account when Google has not verified the address, and stops at the confirmation step', async () => {
    const who = h.googleAccount({ email_verified: false });
    const browser = h.browser();
    const { flow, page } = await signInWithGoogle(h, browser, who);
    expect(page.stoppedAt, 'no code for an unverified address').toBeUndefined();
    expect(heading(page)).toBe(SAYS.verifyTitle);
    expect(page.body).toContain(who.email);

    // The confirmation link went to the address; once it is followed the sign-in goes on.
    const [mail] = await h.inbox(who.email!, 'verify-email');
    expect(mail?.link).toBeDefined();
    const confirm = await browser.open(mail!.link!);
    const confirmed = await browser.submit(confirm, {});
    expect(heading(confirmed)).toBe('Your address is confirmed');
    const back = await click(browser, confirmed, 'a.button');
    expect((await tokensFor(h, flow, back)).claims()).toMatchObject({ email: who.email, email_verified: true });
  });

  it('asks for the names Google did not give before finishing', async () => {
    const { given_name: _given, family_name: _family, ...nameless } = h.googleAccount();
    const browser = h.browser();
    const { flow, page } = await signInWithGoogle(h, browser, nameless);
    expect(page.stoppedAt).toBeUndefined();
    expect(heading(page)).toBe(SAYS.profileTitle);
    expect(page.doc.querySelector('input[name="given_name"]')?.getAttribute('value') ?? '').toBe('');
    const done = await browser.submit(page, { given_name: 'Noa', family_name: 'Nameless' });
    expect((await tokensFor(h, flow, done)).claims()).toMatchObject({ email: nameless.email, given_name: 'Noa', family_name: 'Nameless' });

    const halfNamed = h.googleAccount({ family_name: undefined });
    const half = await signInWithGoogle(h, h.browser(), halfNamed);
    expect(heading(half.page)).toBe(SAYS.profileTitle);
    expect(half.page.doc.querySelector('input[name="given_name"]')?.getAttribute('value')).toBe(halfNamed.given_name);
  });

  it('signs a returning Google identity in to the same account, in any browser', async () => {
    const who = h.googleAccount();
    const first = await subjectViaGoogle(h, h.browser(), who);
    const before = await accountCount();
    expect(await subjectViaGoogle(h, h.browser(), who)).toBe(first);
    expect(await subjectViaGoogle(h, h.browser(), { ...who, given_name: 'Renamed' })).toBe(first);
    expect(await accountCount()).toBe(before);
  });

  it('keeps signing it in to the same account after its Google address changed, even to an address another account has', async () => {
    const who = h.googleAccount();
    const first = await subjectViaGoogle(h, h.browser(), who);
    const moved = { ...who, email: `moved.${who.sub}@gmail.com` };
    const { flow, page } = await signInWithGoogle(h, h.browser(), moved);
    const claims = (await tokensFor(h, flow, page)).claims()!;
    expect(claims.sub).toBe(first);
    expect(claims.email, 'the account keeps its own address').toBe(who.email);

    const other = await h.account();
    expect(await subjectViaGoogle(h, h.browser(), { ...who, email: other.email })).toBe(first);
  });

  it('does not silently let another Google account with the same address in', async () => {
    const who = h.googleAccount();
    await subjectViaGoogle(h, h.browser(), who);
    const impostor = { ...h.googleAccount(), email: who.email };

    // Google vouches for the address: the owner must still prove control of the account.
    const vouched = await signInWithGoogle(h, h.browser(), impostor);
    expect(vouched.page.stoppedAt).toBeUndefined();
    expect(heading(vouched.page)).toBe(SAYS.linkTitle);

    // Google does not: refused outright.
    const unvouched = await signInWithGoogle(h, h.browser(), { ...impostor, email_verified: false });
    expectLoginPageSaying(unvouched.page, SAYS.unverified);
  });

  it('does not let Google into a disabled account', async () => {
    const who = h.googleAccount();
    const id = await subjectViaGoogle(h, h.browser(), who);
    await h.f.server.sesame.users.setDisabled(id, true);
    const { page } = await signInWithGoogle(h, h.browser(), who);
    expectLoginPageSaying(page, SAYS.failed);

    // Nor does a new Google identity with that account's address get in, or get an account of its own.
    const before = await accountCount();
    const other = await signInWithGoogle(h, h.browser(), { ...h.googleAccount(), email: who.email });
    expect(other.page.stoppedAt).toBeUndefined();
    expect(alertOf(other.page)).toBe(SAYS.failed);
    expect(await accountCount()).toBe(before);
  });

  it('never logs the Google client secret, codes or tokens', () => {
    expect(h.secretsInLogs()).toEqual([]);
  });
});
