// Links in e-mail come from ISSUER only (issue 3; checklist 50). Koa's request.host and origin
// follow X-Forwarded-Host when the app trusts a proxy, and the Host header otherwise: an attacker
// who sets them on a "forgot password" or registration request must not get a link to their own
// site into the victim's inbox — with TRUST_PROXY on or off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import type { StoreKind } from '../support/stores.ts';
import { click, csrfOf, expectNoSecretsInLogs, heading, openSignIn, rawPost, startHarness } from './harness.ts';
import type { Harness, Mail } from './harness.ts';

// Only the host is poisoned: a deployment's protocol does not change between two requests (the
// CSRF cookie's name follows it: __Host- over https).
const POISON = { host: 'evil.example', 'x-forwarded-host': 'evil.example' };

const SETTINGS: [StoreKind, 'true' | 'false'][] = STORES.flatMap((kind) => [
  [kind, 'true'] as const,
  [kind, 'false'] as const,
]);

describe.each(SETTINGS)('links in e-mail on %s with TRUST_PROXY=%s', (kind, trustProxy) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: trustProxy });
  });
  afterAll(() => h?.stop());

  function expectIssuerLinksOnly(mails: Mail[], kinds: string[]) {
    expect(mails.map((mail) => mail.kind)).toEqual(kinds);
    for (const mail of mails) {
      expect(mail.links.length, mail.kind).toBeGreaterThan(0);
      for (const link of mail.links) expect(link.startsWith(`${h.f.issuer}/`), `${mail.kind}: ${link}`).toBe(true);
      expect(mail.text + mail.html, mail.kind).not.toContain('evil.example');
    }
  }

  /** Sends the form on `url`'s page with a poisoned Host and X-Forwarded-Host. */
  async function poisonedPost(browser: Browser, url: string, fields: Record<string, string>) {
    const page = await browser.open(url);
    const action = new URL(page.doc.querySelector('form[method="post"]')!.getAttribute('action')!, url).href;
    const answer = await rawPost(browser, action, { csrf: csrfOf(page), ...fields }, POISON);
    expect(answer.status, answer.body).toBeLessThan(400);
    expect(answer.body).not.toContain('evil.example');
    return answer;
  }

  it('builds reset and password-changed links from ISSUER, whatever Host and X-Forwarded-Host say', async () => {
    const account = await h.account({ label: 'poisoned-reset' });
    await poisonedPost(h.browser(), `${h.f.issuer}/account/forgot`, { email: account.email });
    const { token } = await h.latest(account.email, 'reset-password');
    const browser = h.browser();
    const password = 'lichen parade 12 tundra';
    h.keep(password);
    expect(heading(await poisonedPost(browser, `${h.f.issuer}/account/reset?token=${token}`, { token: token!, password }))).toBe('Your password was changed');
    expectIssuerLinksOnly(await h.inbox(account.email), ['reset-password', 'password-changed']);
  });

  it('builds the reset link asked for inside a sign-in from ISSUER', async () => {
    const account = await h.account({ label: 'poisoned-inside' });
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    const forgot = await click(browser, page, 'a[href*="/forgot"]');
    await poisonedPost(browser, forgot.url, { email: account.email });
    expectIssuerLinksOnly(await h.inbox(account.email), ['reset-password']);
  });

  it('builds confirmation and already-registered links from ISSUER, whatever Host and X-Forwarded-Host say', async () => {
    const email = `poisoned-register-${trustProxy}@example.com`;
    const password = 'lichen parade 14 tundra';
    h.keep(password);
    for (const typed of [email, email.toUpperCase()]) {
      const browser = h.browser();
      const { page } = await openSignIn(h, browser);
      const form = await click(browser, page, 'a[href$="/register"]');
      expect(heading(await poisonedPost(browser, form.url, { given_name: 'Eve', family_name: 'Host', email: typed, password }))).toBe('Check your inbox');
    }
    expectIssuerLinksOnly(await h.inbox(email), ['verify-email', 'already-registered']);

    // And the link sent again from the sign-in's "check your inbox" step.
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    const step = await browser.submit(page, { email, password });
    expect(heading(step)).toBe('Confirm your e-mail address');
    await rawPost(browser, new URL(step.doc.querySelector('form')!.getAttribute('action')!, step.url).href, { csrf: csrfOf(step), action: 'resend' }, POISON);
    expectIssuerLinksOnly(await h.inbox(email), ['verify-email', 'already-registered', 'verify-email']);
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
