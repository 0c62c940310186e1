// A change past ACCOUNT_REAUTH_AGE goes through Sésame's /auth again with prompt=login, then
// back to the page, which says the change was not made and asks for it again. The age is set to
// two seconds and the test waits for the condition (polling), never for a fixed time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.ts';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { startFederation } from '../federation/harness.ts';
import type { Federation } from '../federation/harness.ts';
import { heading, notice, signInToAccount, submitOn } from './harness.ts';

describe.each(STORES)('a change needs a recent sign-in (%s)', (kind) => {
  let h: Federation;
  beforeAll(async () => {
    h = await startFederation(kind, { ACCOUNT_REAUTH_AGE: '2' }, { withGoogle: false });
  }, 180_000);
  afterAll(async () => h?.stop());

  it('asks to sign in again past ACCOUNT_REAUTH_AGE, comes back to the page, and nothing is lost silently', async () => {
    const person = await h.account();
    const b = new Browser(h.f.issuer, { 'x-forwarded-for': '10.11.0.1' });
    await signInToAccount(h, b, person.email, person.password);
    const names = { given_name: 'Noémie', family_name: 'Lefèvre' };

    // Changes go through while the sign-in is recent; wait (bounded) until it is older than the
    // setting: the change is then sent to /auth instead, and not made.
    let page: Page | undefined;
    let saved = 'Camille';
    let sent = saved;
    for (let attempt = 1, deadline = Date.now() + 20_000; Date.now() < deadline; attempt++) {
      sent = `Attempt ${attempt}`;
      page = await submitOn(b, `${h.f.issuer}/account/names`, '/account/names', { given_name: sent, family_name: 'Martin' });
      if (heading(page) === 'Sign in') break;
      saved = sent;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(heading(page!)).toBe('Sign in');
    const auth = b.trail.findLast((step) => step.url.includes('/auth?'))!;
    expect(new URL(auth.url).searchParams.get('prompt')).toBe('login');
    expect((await h.f.server.sesame.users.findById(person.id))?.givenName).toBe(saved);
    expect(saved).not.toBe(sent);

    // Signed in again: back on the page, told the change was not made yet.
    page = await b.submit(page!, { email: person.email, password: person.password });
    expect(page.url).toBe(`${h.f.issuer}/account/names?again=1`);
    expect(notice(page)).toBe('For your security you signed in again. Your change was not made yet: please make it again.');
    // Made again at once (should the machine be slow, as many times as it takes).
    for (let attempt = 0; attempt < 5; attempt++) {
      page = await b.submit(page, names, { selector: 'form[action="/account/names"]' });
      if (heading(page) !== 'Sign in') break;
      page = await b.submit(page, { email: person.email, password: person.password });
    }
    expect(notice(page)).toBe('Your name was saved.');
    expect((await h.f.server.sesame.users.findById(person.id))?.givenName).toBe('Noémie');
  });
});
