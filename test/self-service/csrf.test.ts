// Every self-service form refuses a POST that did not come from its own page in the same browser
// (issue 3; checklist 38): without the CSRF token, with another browser's token, or from another
// origin, the answer is 403 and nothing happens — no account, no e-mail, no password or name
// changed, no link used up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { click, csrfOf, expectNoSecretsInLogs, heading, openSignIn, rawPost, register, startHarness, trySignIn } from './harness.ts';
import type { Harness } from './harness.ts';

interface FormCase {
  /** The form's page, opened in the person's browser. */
  page: Page;
  browser: Browser;
  /** What the form sends, less its CSRF token. */
  fields: Record<string, string>;
  /** Proves that nothing the form does has happened. */
  nothingChanged(): Promise<void>;
  /** Proves that the form still works when sent properly. */
  stillWorks?(): Promise<void>;
}

describe.each(STORES)('CSRF on the self-service forms on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  const cases: Record<string, () => Promise<FormCase>> = {
    async register() {
      const browser = h.browser();
      const { page: login } = await openSignIn(h, browser);
      const page = await click(browser, login, 'a[href$="/register"]');
      const email = `forged-${Math.random().toString(36).slice(2)}@example.com`;
      h.keep('forged registration password');
      return {
        page,
        browser,
        fields: { given_name: 'Mallory', family_name: 'Forge', email, password: 'forged registration password' },
        async nothingChanged() {
          expect(await h.inbox(email)).toEqual([]);
          expect(await h.prisma.user.count({ where: { emailKey: email } })).toBe(0);
        },
      };
    },

    async 'forgot, inside a sign-in'() {
      const account = await h.account({ label: 'forgot-inside' });
      const browser = h.browser();
      const { page: login } = await openSignIn(h, browser);
      const page = await click(browser, login, 'a[href*="/forgot"]');
      return { page, browser, fields: { email: account.email }, nothingChanged: async () => expect(await h.inbox(account.email)).toEqual([]) };
    },

    async 'forgot, outside a sign-in'() {
      const account = await h.account({ label: 'forgot-outside' });
      const browser = h.browser();
      const page = await browser.open(`${h.f.issuer}/account/forgot`);
      return { page, browser, fields: { email: account.email }, nothingChanged: async () => expect(await h.inbox(account.email)).toEqual([]) };
    },

    async reset() {
      const account = await h.account({ label: 'reset' });
      const asker = h.browser();
      await asker.submit(await asker.open(`${h.f.issuer}/account/forgot`), { email: account.email });
      const { link, token } = await h.latest(account.email, 'reset-password');
      const browser = h.browser();
      const page = await browser.open(link!);
      h.keep('a forged new password');
      return {
        page,
        browser,
        fields: { token: token!, password: 'a forged new password' },
        nothingChanged: async () => expect(await trySignIn(h, h.browser(), account.email, account.password)).toBe('signed in'),
        stillWorks: async () => expect(heading(await browser.submit(page, { password: 'the owner chose this one' }))).toBe('Your password was changed'),
      };
    },

    async 'confirmation link'() {
      const email = `confirm-${Math.random().toString(36).slice(2)}@example.com`;
      const password = 'juniper otter 4 compass';
      await register(h, h.browser(), { email, password });
      const { link, token } = await h.latest(email, 'verify-email');
      const browser = h.browser();
      const page = await browser.open(link!);
      return {
        page,
        browser,
        fields: { token: token! },
        nothingChanged: async () => expect(await trySignIn(h, h.browser(), email, password)).toBe('Confirm your e-mail address'),
        stillWorks: async () => expect(heading(await browser.submit(page, {}))).toBe('Your address is confirmed'),
      };
    },

    async 'verify_email step (send the link again)'() {
      const email = `step-${Math.random().toString(36).slice(2)}@example.com`;
      const password = 'juniper otter 5 compass';
      const browser = h.browser();
      await register(h, browser, { email, password });
      const { page: login } = await openSignIn(h, browser);
      const page = await browser.submit(login, { email, password });
      expect(heading(page)).toBe('Confirm your e-mail address');
      return {
        page,
        browser,
        fields: { action: 'resend' },
        nothingChanged: async () => expect(await h.inbox(email, 'verify-email')).toHaveLength(1),
        stillWorks: async () => {
          await browser.submit(page, {}, { button: { name: 'action', value: 'resend' } });
          expect(await h.inbox(email, 'verify-email')).toHaveLength(2);
        },
      };
    },

    async profile() {
      const account = await h.account({ names: false, label: 'profile' });
      const browser = h.browser();
      const { page: login } = await openSignIn(h, browser);
      const page = await browser.submit(login, { email: account.email, password: account.password });
      expect(heading(page)).toBe('Complete your profile');
      return {
        page,
        browser,
        fields: { given_name: 'Mallory', family_name: 'Forge' },
        async nothingChanged() {
          const user = await h.prisma.user.findUniqueOrThrow({ where: { id: account.id } });
          expect([user.givenName, user.familyName]).toEqual([null, null]);
        },
        stillWorks: async () => expect((await browser.submit(page, { given_name: 'Réal', family_name: 'Owner' })).stoppedAt).toBeDefined(),
      };
    },
  };

  it.each(Object.keys(cases))('refuses the %s form without its token, with another browser\'s token, or from another origin, and nothing changes', async (name) => {
    const form = await cases[name]!();
    const action = new URL(form.page.doc.querySelector('form[method="post"]')!.getAttribute('action')!, form.page.url).href;
    const ownToken = csrfOf(form.page);
    const otherBrowser = h.browser();
    const otherToken = csrfOf(await otherBrowser.open(`${h.f.issuer}/account/forgot`));
    expect(ownToken).toBeTruthy();
    expect(otherToken).toBeTruthy();
    expect(otherToken).not.toBe(ownToken);

    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['no token', form.fields, {}],
      ['an empty token', { ...form.fields, csrf: '' }, {}],
      ['another browser\'s token', { ...form.fields, csrf: otherToken }, {}],
      ['its own token, from another origin', { ...form.fields, csrf: ownToken }, { origin: 'https://evil.example' }],
    ];
    for (const [what, fields, headers] of attempts) {
      const page = await rawPost(form.browser, action, fields, headers);
      expect(page.status, what).toBe(403);
      expect(heading(page), what).toBe('Something went wrong');
      expect(page.body, what).toContain('This form has expired or was sent from another site.');
    }
    await form.nothingChanged();
    await form.stillWorks?.();
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
