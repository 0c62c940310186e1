// Issue 4, when the round trip to Google goes wrong (checklist 55). A person who cancels at
// Google, a Google that does not answer, a state or code tampered with, a callback used twice
// or carried to another browser: none signs anyone in, each ends on the login page with a plain
// message (or the "start again" page when the sign-in cannot be told), and none is a 500. The ID
// token Google returns is really checked: from another issuer, or signed by another key, it
// signs nobody in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleStandIn } from '../support/google-stand-in.ts';
import type { GoogleStandIn } from '../support/google-stand-in.ts';
import { STORES } from '../support/stores.ts';
import {
  callbackFromGoogle,
  continueWithGoogle,
  expectLoginPageSaying,
  heading,
  openSignIn,
  SAYS,
  signInWithGoogle,
  startFederation,
  tokensFor,
} from './harness.ts';
import type { Federation, Page } from './harness.ts';

function expectStartAgain(page: Page) {
  expect(page.stoppedAt, 'went back to the app').toBeUndefined();
  expect(page.status).toBe(400);
  expect(heading(page)).toBe(SAYS.expired);
}

describe.each(STORES)('a Google round trip that goes wrong (%s)', (kind) => {
  let h: Federation;

  beforeAll(async () => {
    h = await startFederation(kind, { FEDERATION_TIMEOUT: '1' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('brings a person who cancels at Google back to the login page, from where Google still works', async () => {
    const before = await h.prisma.user.count();
    const browser = h.browser();
    const { flow, page } = await signInWithGoogle(h, browser, 'cancel');
    expectLoginPageSaying(page, SAYS.cancelled);
    expect(await h.prisma.user.count()).toBe(before);

    const retried = await continueWithGoogle(h, browser, page, h.googleAccount());
    await tokensFor(h, flow, retried);
  });

  it('gives up on a Google that does not answer, within a few seconds (FEDERATION_TIMEOUT=1)', async () => {
    const browser = h.browser();
    const { flow, page } = await openSignIn(h, browser);
    const who = h.googleAccount();
    h.google.hangTokenEndpoint = true;
    const started = Date.now();
    let failed: Page;
    try {
      failed = await continueWithGoogle(h, browser, page, who);
    } finally {
      h.google.hangTokenEndpoint = false;
    }
    expect(Date.now() - started).toBeLessThan(4_000);
    expectLoginPageSaying(failed, SAYS.failed);

    // The person tries again (the same Google account): it works.
    const retried = await continueWithGoogle(h, browser, failed, who);
    await tokensFor(h, flow, retried);
  });

  it('shows Google errors other than a cancel as a failure', async () => {
    const browser = h.browser({ followGoogle: false });
    const { page } = await openSignIn(h, browser);
    const atGoogle = await browser.submit(page, {}, { selector: 'form[action$="/federated/google"]' });
    const state = new URL(atGoogle.stoppedAt!).searchParams.get('state')!;
    const back = await browser.open(`${h.f.issuer}/interaction/callback/google?error=server_error&state=${encodeURIComponent(state)}`);
    expectLoginPageSaying(back, SAYS.failed);
  });

  it('refuses a tampered state or code, and never signs in with them', async () => {
    const tamper = async (change: (callback: URL) => void) => {
      const browser = h.browser({ followGoogle: false });
      const { page } = await openSignIn(h, browser);
      const callback = new URL(await callbackFromGoogle(h, browser, page, h.googleAccount()));
      change(callback);
      const landed = await browser.open(callback.href);
      expect(landed.status).toBeLessThan(500);
      return landed;
    };
    const flip = (value: string) => value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');

    // Same sign-in, another random part: its cookie does not match.
    expectLoginPageSaying(await tamper((url) => url.searchParams.set('state', flip(url.searchParams.get('state')!))), SAYS.failed);
    // The code changed: Google refuses it.
    expectLoginPageSaying(await tamper((url) => url.searchParams.set('code', flip(url.searchParams.get('code')!))), SAYS.failed);
    // The state names a sign-in that is not this browser's, or none at all: start again.
    expectStartAgain(await tamper((url) => url.searchParams.set('state', `someone-elses-sign-in.${url.searchParams.get('state')!.split('.')[1]}`)));
    expectStartAgain(await tamper((url) => url.searchParams.delete('state')));
    expectStartAgain(await tamper((url) => url.searchParams.set('state', '../../session/end')));
  });

  it('does not accept a callback twice in the same browser', async () => {
    // After it signed in.
    const browser = h.browser({ followGoogle: false });
    const { flow, page } = await openSignIn(h, browser);
    const callback = await callbackFromGoogle(h, browser, page, h.googleAccount());
    await tokensFor(h, flow, await browser.open(callback));
    expectStartAgain(await browser.open(callback));

    // After it led to the linking page, the sign-in still open.
    const account = await h.account();
    const linking = h.browser({ followGoogle: false });
    const started = await openSignIn(h, linking);
    const toLink = await callbackFromGoogle(h, linking, started.page, { ...h.googleAccount(), email: account.email });
    expect(heading(await linking.open(toLink))).toBe(SAYS.linkTitle);
    expectLoginPageSaying(await linking.open(toLink), SAYS.failed);
  });

  it('does not accept the callback in another browser, which leaves the sign-in to its owner', async () => {
    const browser = h.browser({ followGoogle: false });
    const { flow, page } = await openSignIn(h, browser);
    const callback = await callbackFromGoogle(h, browser, page, h.googleAccount());

    // Someone else's browser, with no sign-in of its own, or with one of its own.
    expectStartAgain(await h.browser().open(callback));
    const attacker = h.browser();
    await openSignIn(h, attacker);
    expectStartAgain(await attacker.open(callback));

    await tokensFor(h, flow, await browser.open(callback));
  });

  it('shows only its own messages on the login page, whatever ?upstream= says', async () => {
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    for (const upstream of ['constructor', 'toString', '__proto__', 'hasOwnProperty', '<b>bold</b>', 'nonsense']) {
      const shown = await browser.open(`${page.url}?upstream=${encodeURIComponent(upstream)}`);
      expectLoginPageSaying(shown, undefined);
    }
    expectLoginPageSaying(await browser.open(`${page.url}?upstream=domain`), SAYS.domain);
  });

  it('never logs the Google client secret, codes or tokens', () => {
    expect(h.f.server.logs.some((line) => line.includes('upstream sign-in did not complete'))).toBe(true);
    expect(h.secretsInLogs()).toEqual([]);
  });
});

describe.each(STORES)('the ID token from Google is checked (%s)', (kind) => {
  let impostor: GoogleStandIn;
  const runs: Federation[] = [];

  beforeAll(async () => {
    impostor = await startGoogleStandIn();
  });
  afterAll(async () => {
    for (const h of runs) await h.stop();
    await impostor?.close();
  });

  const cases: [string, () => Record<string, string>][] = [
    ['from another issuer', () => ({ GOOGLE_ISSUER: 'https://accounts.google.com' })],
    ['signed by a key that is not Google’s', () => ({ GOOGLE_JWKS_URL: impostor.env.GOOGLE_JWKS_URL! })],
  ];

  it.each(cases)('refuses one %s: the plain message, and no account', async (_label, settings) => {
    const h = await startFederation(kind, settings());
    runs.push(h);
    const before = await h.prisma.user.count();
    const who = h.googleAccount();
    const { page } = await signInWithGoogle(h, h.browser(), who);
    expectLoginPageSaying(page, SAYS.failed);
    expect(await h.prisma.user.count()).toBe(before);
    expect(await h.f.server.sesame.users.findByEmail(who.email!)).toBeNull();
    expect(h.secretsInLogs()).toEqual([]);
  });
});
