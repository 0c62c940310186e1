// Issue 4, GOOGLE_ALLOWED_DOMAINS. With one domain, Google is asked to offer only accounts of
// that Workspace (hd=…), and what comes back is checked again: only an account whose `hd` is an
// allowed domain and whose address is in that same domain signs in. Personal accounts (no hd),
// other Workspaces, and an allowed-looking address under another hd get the plain message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.ts';
import { expectLoginPageSaying, openSignIn, SAYS, signInWithGoogle, startFederation, subjectViaGoogle } from './harness.ts';
import type { Federation, GoogleAccount } from './harness.ts';

describe.each(STORES)('Google sign-in restricted to example.com (%s)', (kind) => {
  let h: Federation;

  beforeAll(async () => {
    h = await startFederation(kind, { GOOGLE_ALLOWED_DOMAINS: 'Example.com' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('asks Google for accounts of that Workspace only (hd=example.com)', async () => {
    const browser = h.browser({ followGoogle: false });
    const { page } = await openSignIn(h, browser);
    const sent = await browser.submit(page, {}, { selector: 'form[action$="/federated/google"]' });
    expect(new URL(sent.stoppedAt!).searchParams.get('hd')).toBe('example.com');
  });

  it('signs in a Google account of example.com with an @example.com address', async () => {
    const who = h.googleAccount({ domain: 'example.com', hd: 'example.com' });
    expect(await subjectViaGoogle(h, h.browser(), who)).toBeTruthy();
    expect(await subjectViaGoogle(h, h.browser(), { ...who, email: who.email!.replace('example.com', 'EXAMPLE.COM') })).toBeTruthy();
  });

  const refused: [string, Partial<GoogleAccount> & { domain?: string }][] = [
    ['a personal account (no hd)', { domain: 'gmail.com' }],
    ['a personal account with an @example.com address (no hd)', { domain: 'example.com' }],
    ['another Workspace', { domain: 'elsewhere.org', hd: 'elsewhere.org' }],
    ['an @example.com address in another Workspace', { domain: 'example.com', hd: 'elsewhere.org' }],
    ['a Workspace of example.com with an address elsewhere', { domain: 'elsewhere.org', hd: 'example.com' }],
    ['a look-alike Workspace', { domain: 'example.com.evil.test', hd: 'example.com.evil.test' }],
  ];

  it.each(refused)('refuses %s with the plain message, and makes no account', async (_label, overrides) => {
    const before = await h.prisma.user.count();
    const who = h.googleAccount(overrides);
    const { page } = await signInWithGoogle(h, h.browser(), who);
    expectLoginPageSaying(page, SAYS.domain);
    expect(await h.prisma.user.count()).toBe(before);
  });

  it('never logs the Google client secret, codes or tokens', () => {
    expect(h.secretsInLogs()).toEqual([]);
  });
});

describe.each(STORES)('Google sign-in restricted to two domains (%s)', (kind) => {
  let h: Federation;

  beforeAll(async () => {
    h = await startFederation(kind, { GOOGLE_ALLOWED_DOMAINS: 'example.com, example.org' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('cannot name one Workspace to Google (no hd), and signs in accounts of either', async () => {
    const browser = h.browser({ followGoogle: false });
    const { page } = await openSignIn(h, browser);
    const sent = await browser.submit(page, {}, { selector: 'form[action$="/federated/google"]' });
    expect(new URL(sent.stoppedAt!).searchParams.has('hd')).toBe(false);

    for (const domain of ['example.com', 'example.org']) expect(await subjectViaGoogle(h, h.browser(), h.googleAccount({ domain, hd: domain }))).toBeTruthy();
    const { page: refused } = await signInWithGoogle(h, h.browser(), h.googleAccount({ domain: 'example.net', hd: 'example.net' }));
    expectLoginPageSaying(refused, SAYS.domain);
  });
});
