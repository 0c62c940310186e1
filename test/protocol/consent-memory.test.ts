// Consent is remembered beyond the browser session it was given in: a person who allowed an app
// is not asked again on another browser or another day, only for what the app never had. The app
// can still insist (prompt=consent), and withdrawing the consent ends the app's tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { heading, refreshOutcome } from '../support/pages.ts';
import { beginSignIn, discover, oidc, redeem } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

const CONSENT_HEADING = 'Wiki <b>&</b> wants to access your Sésame account';

describe.each(STORES)('remembered consent on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;
  let people = 0;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
  });
  afterAll(() => f?.stop());

  async function person() {
    people++;
    return f.server.sesame.users.create({ email: `consenting-${people}@example.com`, password: PASSWORD, emailVerified: true, givenName: 'Con', familyName: 'Sent' });
  }

  /** Signs `email` in on a new browser (a new session); returns the page after the password. */
  async function signInOnNewBrowser(email: string, params: Record<string, string> = {}) {
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`, params);
    const page = await browser.submit(await browser.open(flow.url), { email, password: PASSWORD });
    return { browser, flow, page };
  }

  const scopesListed = (page: Page) => page.doc.querySelectorAll('.scopes li').map((li) => li.text.replace(/\s+/g, ' ').trim());

  async function allow(browser: Browser, page: Page) {
    expect(heading(page)).toBe(CONSENT_HEADING);
    return browser.submit(page, {}, { button: { name: 'decision', value: 'allow' } });
  }

  it('does not ask again on another browser once the person has allowed the app', async () => {
    const { id, email } = await person();
    const first = await signInOnNewBrowser(email);
    const tokens = await redeem(web, first.flow, (await allow(first.browser, first.page)).stoppedAt!);
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);

    const second = await signInOnNewBrowser(email);
    expect(second.page.stoppedAt, second.page.body.slice(0, 500)).toBeDefined();
    const again = await redeem(web, second.flow, second.page.stoppedAt!);
    expect(again.claims()).toMatchObject({ sub: id, email, given_name: 'Con' });
    expect(again.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
  });

  it('asks only for what the app never had, and then remembers that too', async () => {
    const { email } = await person();
    const first = await signInOnNewBrowser(email, { scope: 'openid email' });
    const consent = first.page;
    expect(scopesListed(consent)).toEqual(['Know who you are', 'See your e-mail address']);
    await allow(first.browser, consent);

    const wider = await signInOnNewBrowser(email, { scope: 'openid email profile' });
    // Everything the app will hold is listed; only what is new is asked (issue 8, finding 3).
    expect(scopesListed(wider.page)).toEqual(['Know who you are (already allowed)', 'See your name', 'See your e-mail address (already allowed)']);
    const tokens = await redeem(web, wider.flow, (await allow(wider.browser, wider.page)).stoppedAt!);
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);

    const narrower = await signInOnNewBrowser(email, { scope: 'openid profile' });
    const narrowTokens = await redeem(web, narrower.flow, narrower.page.stoppedAt!);
    expect(narrowTokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
    expect(narrowTokens.claims()!.email).toBeUndefined();
  });

  it('asks again when the app sends prompt=consent', async () => {
    const { email } = await person();
    const first = await signInOnNewBrowser(email);
    await allow(first.browser, first.page);
    const insisted = await signInOnNewBrowser(email, { prompt: 'consent' });
    expect(heading(insisted.page)).toBe(CONSENT_HEADING);
  });

  it('does not remember a refusal as consent, nor carry one person’s consent over to another', async () => {
    const refusing = await person();
    const refused = await signInOnNewBrowser(refusing.email);
    const denied = await refused.browser.submit(refused.page, {}, { button: { name: 'decision', value: 'deny' } });
    expect(new URL(denied.stoppedAt!).searchParams.get('error')).toBe('access_denied');
    expect(heading((await signInOnNewBrowser(refusing.email)).page)).toBe(CONSENT_HEADING);

    const allowing = await person();
    const other = await signInOnNewBrowser(allowing.email);
    await allow(other.browser, other.page);
    expect(heading((await signInOnNewBrowser(refusing.email)).page)).toBe(CONSENT_HEADING);
  });

  it('forgets the consent of an app that is removed', async () => {
    const { id, email } = await person();
    const { client, secret } = await f.server.sesame.clients.add({
      client_name: 'Short-lived',
      redirect_uris: [`${RP}/short/cb`],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      public: false,
      first_party: false,
    });
    const app = await discover(f.issuer, client.clientId, secret);
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(app, `${RP}/short/cb`);
    const consent = await browser.submit(await browser.open(flow.url), { email, password: PASSWORD });
    await browser.submit(consent, {}, { button: { name: 'decision', value: 'allow' } });
    expect(await f.server.db.prisma.consent.count({ where: { userId: id } })).toBe(1);

    await f.server.sesame.clients.remove(client.clientId);
    expect(await f.server.db.prisma.consent.count({ where: { userId: id } })).toBe(0);
  });

  it('keeps the refresh tokens the app already has when the person is not asked again', async () => {
    const { email } = await person();
    const first = await signInOnNewBrowser(email);
    const tokens = await redeem(web, first.flow, (await allow(first.browser, first.page)).stoppedAt!);
    const second = await signInOnNewBrowser(email);
    await redeem(web, second.flow, second.page.stoppedAt!);
    expect(await refreshOutcome(web, tokens.refresh_token!)).toBe('ok');
  });
});
