// Issue 8, finding 6: the sign-out confirmation form accepted a cross-origin POST
// (oidc-provider's own /session/end/confirm took `Origin: https://evil.example`), while the
// README says every form refuses another origin. Every POST a browser sends to a form of Sésame
// — oidc-provider's confirmation included — is refused with a 403 page when it says it comes
// from elsewhere (Origin, `Origin: null`, Sec-Fetch-Site); the endpoints relying apps post to
// from their own origin still take it.
import { parse } from 'node-html-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { csrfOf, heading } from '../support/pages.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

const ELSEWHERE: [string, Record<string, string>][] = [
  ['another origin', { origin: 'https://evil.example' }],
  ['a sandboxed frame (Origin: null)', { origin: 'null' }],
  ['another site, by Fetch Metadata only', { 'sec-fetch-site': 'cross-site' }],
  ['a sibling site, by Fetch Metadata only', { 'sec-fetch-site': 'same-site' }],
];

describe.each(STORES)('cross-origin form posts on %s (issue 8, finding 6: the sign-out confirmation accepted a cross-origin POST)', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
  });
  afterAll(() => f?.stop());

  /** A form POST as the browser sends it from `headers`' page: its cookies, no Origin unless given. */
  async function post(browser: Browser, url: string, fields: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; body: string; location: string | null }> {
    const response = await browser.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
    return { status: response.status, body: await response.text(), location: response.headers.get('location') };
  }

  async function signedIn() {
    const browser = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`);
    const tokens = await redeem(web, flow, await signIn(browser, flow, f.alice.email, PASSWORD));
    return { browser, tokens };
  }

  /** Whether the browser still has a session: prompt=none returns a code rather than login_required. */
  async function stillSignedIn(browser: Browser): Promise<boolean> {
    const flow = await beginSignIn(web, `${RP}/cb`, { prompt: 'none' });
    const page = await browser.open(flow.url);
    return new URL(page.stoppedAt!).searchParams.has('code');
  }

  it('refuses the sign-out confirmation posted from elsewhere with a 403 page, and the person stays signed in', async () => {
    const { browser, tokens } = await signedIn();
    const confirm = await browser.open(oidc.buildEndSessionUrl(web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${RP}/bye` }).href);
    const action = new URL(confirm.doc.querySelector('form')!.getAttribute('action')!, confirm.url).href;
    const xsrf = confirm.doc.querySelector('input[name="xsrf"]')!.getAttribute('value')!;
    for (const [from, headers] of ELSEWHERE) {
      const answer = await post(browser, action, { xsrf, logout: 'yes' }, headers);
      expect(answer.status, from).toBe(403);
      expect(answer.body, from).toContain('This form has expired or was sent from another site.');
    }
    expect(await stillSignedIn(browser)).toBe(true);

    // From its own page it still works.
    const done = await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
    expect(done.stoppedAt).toBe(`${RP}/bye`);
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('refuses the sign-in forms and the e-mail link forms posted from elsewhere, even with their CSRF token', async () => {
    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const forgot = await browser.open(`${f.issuer}/account/forgot`);
    const forms: [string, Page, Record<string, string>][] = [
      ['login', login, { email: f.alice.email, password: PASSWORD }],
      ['forgot, outside a sign-in', forgot, { email: f.alice.email }],
    ];
    for (const [name, page, fields] of forms) {
      const action = new URL(page.doc.querySelector('form[method="post"]')!.getAttribute('action')!, page.url).href;
      for (const [from, headers] of ELSEWHERE) {
        const answer = await post(browser, action, { ...fields, csrf: csrfOf(page) }, headers);
        expect(answer.status, `${name} from ${from}`).toBe(403);
        expect(parse(answer.body).querySelector('h1')?.text.trim(), `${name} from ${from}`).toBe('Something went wrong');
      }
    }
    // Nobody signed in on the way: the login form still asks.
    expect(heading(await browser.open(login.url))).toBe('Sign in');
  });

  it('lets the pages behind e-mailed links carry their real origin (no Referrer-Policy: no-referrer, which makes it null)', async () => {
    const page = await new Browser(f.issuer).open(`${f.issuer}/account/reset?token=unknown`);
    expect(page.headers.get('referrer-policy')).toBe('strict-origin');
  });

  it('still takes the cross-origin posts relying apps make: the authorization request, RP-initiated logout, the back channel', async () => {
    const fromApp = { origin: RP, 'sec-fetch-site': 'cross-site' };
    const flow = await beginSignIn(web, `${RP}/cb`);
    const { browser: person, tokens } = await signedIn();
    // oidc-provider answers POST on these two only with enableHttpPostMethods, which Sésame leaves
    // off (404); the edge must not be what refuses them.
    const authorize = await post(new Browser(f.issuer), `${f.issuer}/auth`, Object.fromEntries(new URL(flow.url).searchParams), fromApp);
    expect(authorize.status).not.toBe(403);
    const logout = await post(person, `${f.issuer}/session/end`, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${RP}/bye` }, fromApp);
    expect(logout.status).not.toBe(403);

    const basic = `Basic ${Buffer.from(`${f.web.id}:${encodeURIComponent(f.web.secret)}`).toString('base64')}`;
    const backChannel: [string, Record<string, string>, Record<string, string>][] = [
      ['/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, { authorization: basic }],
      ['/token/introspection', { token: tokens.access_token }, { authorization: basic }],
      ['/token/revocation', { token: 'unknown' }, { authorization: basic }],
      ['/request', Object.fromEntries(new URL(flow.url).searchParams), { authorization: basic }],
      ['/me', { access_token: tokens.access_token }, {}],
    ];
    // What oidc-provider makes of them is its own business (CORS per client: a confidential
    // client's browser calls are refused there); the edge lets them through.
    for (const [path, fields, headers] of backChannel) {
      const answer = await post(new Browser(f.issuer), `${f.issuer}${path}`, fields, { ...fromApp, ...headers });
      expect(answer.status, path).not.toBe(403);
      expect(answer.body, path).not.toContain('sent from another site');
    }
    // A browser app's own call, from its origin: oidc-provider answers it (CORS allowed).
    const spa = await fetch(`${f.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(f.spa.redirectUri).origin, 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown', client_id: f.spa.id }),
    });
    expect(spa.status).toBe(400);
    expect(((await spa.json()) as { error: string }).error).toBe('invalid_grant');
    expect(spa.headers.get('access-control-allow-origin')).toBe(new URL(f.spa.redirectUri).origin);
  });
});
