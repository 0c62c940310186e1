// Issue 8, finding 3: the prompt=consent page understated what the app gets. A person who had
// allowed `openid email profile` was shown only "Know who you are", while the token carried all
// three scopes. The page lists everything the app will hold (what was allowed before marked so),
// says who is signed in with a way to be someone else, and that the answer is remembered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { click, heading } from '../support/pages.ts';
import { beginSignIn, discover, oidc, redeem } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

const CONSENT_HEADING = 'Wiki <b>&</b> wants to access your Sésame account';
const BEFORE = ' (already allowed)';
/** What the page says for each scope, in the order it lists them. */
const SAYS: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name',
  email: 'See your e-mail address',
  offline_access: 'Keep access while you are away',
};

const listed = (page: Page) => page.doc.querySelectorAll('.scopes li').map((li) => li.text.replace(/\s+/g, ' ').trim());
/** The scopes of a token, as the consent page words them, in its order. */
const worded = (scope: string | undefined) => Object.keys(SAYS).filter((name) => scope?.split(' ').includes(name)).map((name) => SAYS[name]!);

describe.each(STORES)('the prompt=consent page understates what the app gets (issue 8, finding 3), on %s', (kind) => {
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
    return f.server.sesame.users.create({ email: `listed-${people}@example.com`, password: PASSWORD, emailVerified: true, givenName: 'Lise', familyName: `Tée ${people}` });
  }

  /** Signs `email` in on a new browser, up to the consent page. */
  async function consentPage(email: string, params: Record<string, string> = {}) {
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`, params);
    const page = await browser.submit(await browser.open(flow.url), { email, password: PASSWORD });
    expect(page.doc.querySelector('button[name="decision"]'), page.body.slice(0, 500)).not.toBeNull();
    return { browser, flow, page };
  }

  const allow = (browser: Browser, page: Page) => browser.submit(page, {}, { button: { name: 'decision', value: 'allow' } });

  it('lists everything already allowed when the app insists with prompt=consent, and the token carries what was listed', async () => {
    const { email } = await person();
    const first = await consentPage(email, { scope: 'openid email profile' });
    await allow(first.browser, first.page);

    const insisted = await consentPage(email, { scope: 'openid email profile', prompt: 'consent' });
    expect(listed(insisted.page)).toEqual([`Know who you are${BEFORE}`, `See your name${BEFORE}`, `See your e-mail address${BEFORE}`]);
    const tokens = await redeem(web, insisted.flow, (await allow(insisted.browser, insisted.page)).stoppedAt!);
    expect(worded(tokens.scope)).toEqual(listed(insisted.page).map((item) => item.replace(BEFORE, '')));
  });

  it('lists what is new beside what was allowed before, and the token carries both', async () => {
    const { email } = await person();
    const first = await consentPage(email, { scope: 'openid email' });
    await allow(first.browser, first.page);

    // offline_access counts only with prompt=consent (OpenID Connect Core §11).
    const wider = await consentPage(email, { scope: 'openid email profile offline_access', prompt: 'consent' });
    expect(listed(wider.page)).toEqual([`Know who you are${BEFORE}`, 'See your name', `See your e-mail address${BEFORE}`, 'Keep access while you are away']);
    const tokens = await redeem(web, wider.flow, (await allow(wider.browser, wider.page)).stoppedAt!);
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'offline_access', 'openid', 'profile']);
    expect(worded(tokens.scope)).toEqual(listed(wider.page).map((item) => item.replace(BEFORE, '')));
  });

  it('says who is signed in, and "Not you?" signs in someone else into the same request, without JavaScript', async () => {
    const first = await person();
    const other = await person();
    const { browser, flow, page } = await consentPage(first.email);
    const signedIn = page.doc.querySelector('main p.muted')!;
    expect(signedIn.text).toContain(`Signed in as ${first.email} (Lise ${first.familyName})`);
    expect(page.doc.querySelectorAll('script').filter((script) => !script.getAttribute('src'))).toEqual([]);

    const login = await click(browser, page, 'a.switch-account');
    expect(login.doc.querySelector('input[name="password"]')).not.toBeNull();
    const switching = await browser.submit(login, { email: other.email, password: PASSWORD });
    // oidc-provider signs the first person out on a page with one button (continue-pages.test.ts).
    const asOther = await browser.submit(switching, {});
    expect(heading(asOther)).toBe(CONSENT_HEADING);
    expect(asOther.doc.querySelector('main p.muted')!.text).toContain(`Signed in as ${other.email}`);

    // The app gets its answer to the request it made: same state, nonce and PKCE verifier.
    const tokens = await redeem(web, flow, (await allow(browser, asOther)).stoppedAt!);
    expect(tokens.claims()!.sub).toBe(other.id);
  });

  it('says the answer is remembered, and who can withdraw it, in English and French', async () => {
    const { email } = await person();
    const english = await consentPage(email);
    expect(english.page.body).toContain('Your answer is remembered: Wiki &lt;b&gt;&amp;&lt;/b&gt; will not ask again unless it wants more. Your administrator can withdraw it for you at any time.');
    const french = await consentPage(email, { ui_locales: 'fr' });
    expect(french.page.body).toContain('Votre réponse est mémorisée');
    expect(french.page.doc.querySelector('a.switch-account')!.text).toBe('Ce n’est pas vous ? Utilisez un autre compte');
  });
});
