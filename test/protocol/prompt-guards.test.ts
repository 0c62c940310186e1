// Issue 8, part 6: every step's form acts only when the provider waits for that step. Before,
// the profile form had no such guard: posted while the sign-in waited for consent, it changed
// the account's names and reported a profile step nobody was asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { csrfOf, heading } from '../support/pages.ts';
import { beginSignIn, discover, oidc } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

describe.each(STORES)('step forms out of turn on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
  });
  afterAll(() => f?.stop());

  async function postForm(browser: Browser, url: string, fields: Record<string, string>) {
    const response = await browser.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: f.issuer }, body: new URLSearchParams(fields) });
    return { status: response.status, location: response.headers.get('location') };
  }

  it('does not act on the profile form while the sign-in waits for consent: back to the consent page, names unchanged', async () => {
    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const consent = await browser.submit(login, { email: f.alice.email, password: PASSWORD });
    expect(heading(consent)).toContain('wants to access your');
    const step = new URL(consent.url).pathname;

    const answer = await postForm(browser, `${f.issuer}${step}/profile`, { csrf: csrfOf(consent), given_name: 'Mallory', family_name: 'Forge' });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(step);
    const alice = await f.server.sesame.users.findById(f.alice.id);
    expect([alice?.givenName, alice?.familyName]).toEqual(['Alice', 'Liddell']);
    expect(heading(await browser.open(`${f.issuer}${step}`))).toContain('wants to access your');
  });

  it('does not act on the login or verify-email forms out of turn either', async () => {
    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const consent = await browser.submit(login, { email: f.alice.email, password: PASSWORD });
    const step = new URL(consent.url).pathname;
    for (const [form, fields] of [
      ['login', { email: 'someone@example.com', password: 'whatever it is' }],
      ['verify-email', { action: 'resend' }],
    ] as const) {
      const answer = await postForm(browser, `${f.issuer}${step}/${form}`, { csrf: csrfOf(consent), ...fields });
      expect(answer.status, form).toBe(303);
      expect(answer.location, form).toBe(step);
    }
    expect(heading(await browser.open(`${f.issuer}${step}`))).toContain('wants to access your');
  });

  it('refuses a step form without its CSRF token before anything else', async () => {
    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const step = new URL(login.url).pathname;
    const answer = await postForm(browser, `${f.issuer}${step}/profile`, { given_name: 'Mallory', family_name: 'Forge' });
    expect(answer.status).toBe(403);
  });
});
