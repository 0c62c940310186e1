// Where the server sends a person's browser, and where it refuses to: redirect URIs, refused
// authorization requests, RP-initiated logout, and attacker input on the pages it shows instead.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as jose from 'jose';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

const EVIL = 'https://evil.example';
const XSS = '"><svg onload=alert(1)>';
const STACK_TRACE = /\n\s+at |node_modules|\.(?:js|ts):\d+|TypeError|ReferenceError|Prisma|stack/;

interface Answer {
  status: number;
  location: string | null;
  type: string | null;
  body: string;
}

/** What a browser's navigation gets: it asks for HTML and does not follow redirects. */
async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const headers = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', ...(init.headers as Record<string, string>) };
  const response = await fetch(url, { redirect: 'manual', ...init, headers });
  return { status: response.status, location: response.headers.get('location'), type: response.headers.get('content-type'), body: await response.text() };
}

/** The page shown instead of a redirect: an HTML 400, no Location, nothing internal. */
function expectErrorPage(answer: Answer) {
  expect(answer.status, answer.body.slice(0, 500)).toBe(400);
  expect(answer.location).toBeNull();
  expect(answer.type).toMatch(/^text\/html/);
  expect(answer.body).toContain('<h1>Something went wrong</h1>');
  expect(answer.body).not.toMatch(STACK_TRACE);
}

/** The query and fragment parameters of the URL the browser was sent to. */
function responseParams(url: string): URLSearchParams {
  const parsed = new URL(url);
  const params = new URLSearchParams(parsed.search);
  for (const [key, value] of new URLSearchParams(parsed.hash.slice(1))) params.append(key, value);
  return params;
}

describe.each(STORES)('redirects on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;
  let challenge: string;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
    challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
  });
  afterAll(() => f?.stop());

  /** A valid authorization request for the `web` app, with `changes` applied (undefined removes). */
  function authUrl(changes: Record<string, string | undefined> = {}): string {
    const params: Record<string, string | undefined> = {
      client_id: f.web.id,
      redirect_uri: `${RP}/cb`,
      response_type: 'code',
      scope: 'openid email',
      state: 'st4te',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...changes,
    };
    const url = new URL(`${f.issuer}/auth`);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
    return url.href;
  }

  async function signedIn(browser = new Browser(f.issuer)) {
    const flow = await beginSignIn(web, `${RP}/cb`);
    const tokens = await redeem(web, flow, await signIn(browser, flow, f.alice.email, PASSWORD));
    return { browser, idToken: tokens.id_token! };
  }

  /** Whether the browser still has a session: prompt=none comes back with a code. */
  async function stillSignedIn(browser: Browser): Promise<boolean> {
    const page = await browser.open(authUrl({ prompt: 'none' }));
    return responseParams(page.stoppedAt!).has('code');
  }

  describe('redirect URIs', () => {
    it('sends a valid request on to the sign-in page (the control for the refusals below)', async () => {
      const answer = await get(authUrl());
      expect(answer.status).toBe(303);
      expect(answer.location).toMatch(/^\/interaction\//);
    });

    it('shows an error page, and never redirects, for an unregistered redirect_uri', async () => {
      const answer = await get(authUrl({ redirect_uri: `${EVIL}/cb` }));
      expectErrorPage(answer);
      expect(answer.body).toContain('invalid_redirect_uri');
      expect(answer.body).not.toContain('evil.example');
    });

    const host = new URL(RP).host;
    const nearMisses = [
      `${RP}/cb/`,
      `${RP}/CB`,
      `https://${host.toUpperCase()}/cb`,
      `HTTPS://${host}/cb`,
      `${RP}/cb/extra`,
      `${RP}//cb`,
      `${RP}/./cb`,
      `${RP}/cb?`,
      `${RP}/cb?foo=bar`,
      `${RP}/cb#frag`,
      `${RP}/cb#`,
      `http://${host}/cb`,
      `https://${host}:444/cb`,
      `https://${host}:443/cb`,
      `https://${host}@evil.example/cb`,
      `https://${host}@@evil.example/cb`,
      `https://${host}.evil.example/cb`,
      `https://evil.example/${host}/cb`,
      `${RP}/cb/..;/evil`,
      `${RP}/cb/%2e%2e/evil`,
      `${RP}/%2e%2e/cb`,
      `${RP}/cb%2f..%2fevil`,
      `${RP}/cb%252f..%252fevil`,
      `${RP}\\@evil.example/cb`,
      `${RP}/cb\\evil`,
      `${RP}/cb%09`,
      `${RP}/cb\t`,
      `${RP}/cb%00`,
      ` ${RP}/cb`,
      `${RP}/cb `,
      `//${host}/cb`,
      `/cb`,
      `javascript:alert(1)//${host}/cb`,
    ];
    it.each(nearMisses)('never redirects to the near miss %j', async (redirectUri) => {
      const answer = await get(authUrl({ redirect_uri: redirectUri }));
      expectErrorPage(answer);
      // A control character is refused before the redirect URI is even compared (the edge,
      // src/http/request-parameters.ts).
      expect(answer.body).toContain(/[\u0000-\u001f]/.test(redirectUri) ? 'invalid_request' : 'invalid_redirect_uri');
      expect(answer.body).not.toContain('evil.example');
    });

    it('shows an error page for an unknown client_id with an attacker’s redirect_uri, without echoing it', async () => {
      for (const [clientId, error] of [['no-such-client', 'invalid_client'], [f.batch.id, 'invalid_redirect_uri']]) {
        const answer = await get(authUrl({ client_id: clientId, redirect_uri: `${EVIL}/cb` }));
        expectErrorPage(answer);
        expect(answer.body).toContain(`<code>${error}</code>`);
        expect(answer.body).not.toContain('evil.example');
      }
    });

    it('refuses a request without redirect_uri, even though the app has only one', async () => {
      const answer = await get(authUrl({ redirect_uri: undefined }));
      expectErrorPage(answer);
      expect(answer.body).toContain('invalid_request');
    });
  });

  describe('refused authorization requests, reported to the app', () => {
    async function refusal(changes: Record<string, string | undefined>) {
      const page = await new Browser(f.issuer).open(authUrl(changes));
      expect(page.stoppedAt, `expected a redirect to the app, got ${page.status}:\n${page.body.slice(0, 500)}`).toBeDefined();
      const target = new URL(page.stoppedAt!);
      expect(target.origin + target.pathname).toBe(`${RP}/cb`);
      const params = responseParams(page.stoppedAt!);
      for (const issued of ['code', 'access_token', 'id_token']) expect(params.has(issued)).toBe(false);
      expect(params.get('state')).toBe('st4te');
      expect(params.get('iss')).toBe(f.issuer);
      return params;
    }

    it('requires PKCE: no code_challenge gets invalid_request at the app', async () => {
      const params = await refusal({ code_challenge: undefined, code_challenge_method: undefined });
      expect(params.get('error')).toBe('invalid_request');
    });

    it('refuses code_challenge_method=plain', async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      const params = await refusal({ code_challenge: verifier, code_challenge_method: 'plain' });
      expect(params.get('error')).toBe('invalid_request');
    });

    it.each(['token', 'id_token', 'id_token token', 'code id_token', 'code token', 'none'])('refuses response_type=%s', async (responseType) => {
      const params = await refusal({ response_type: responseType, nonce: 'n0nce' });
      expect(params.get('error')).toBe('unsupported_response_type');
    });

    describe('request objects', () => {
      let probe: Server;
      let hits = 0;
      beforeAll(async () => {
        probe = createServer((_req, res) => {
          hits++;
          res.end('eyJhbGciOiJub25lIn0.e30.');
        });
        await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      });
      afterAll(() => new Promise<void>((resolve) => probe.close(() => resolve())));

      it('never fetches a request_uri (SSRF): request_uri_not_supported', async () => {
        const { port } = probe.address() as AddressInfo;
        for (const requestUri of ['http://169.254.169.254/latest/meta-data/', `http://127.0.0.1:${port}/request.jwt`]) {
          const params = await refusal({ request_uri: requestUri });
          expect(params.get('error')).toBe('request_uri_not_supported');
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(hits).toBe(0);
      });

      it('refuses a request object passed by value', async () => {
        const unsigned = new jose.UnsecuredJWT({ client_id: f.web.id, redirect_uri: `${EVIL}/cb` }).encode();
        const params = await refusal({ request: unsigned });
        expect(params.get('error')).toBe('request_not_supported');
      });
    });
  });

  describe('malformed requests', () => {
    it('answers repeated parameters with a clean 400 page', async () => {
      const valid = authUrl();
      for (const repeated of [
        `client_id=${encodeURIComponent(f.web.id)}`,
        `client_id=other-client`,
        `redirect_uri=${encodeURIComponent(`${EVIL}/cb`)}`,
      ]) {
        const answer = await get(`${valid}&${repeated}`);
        expectErrorPage(answer);
        expect(answer.body).toContain('must not be provided twice');
      }
    });

    it('answers huge parameters with a clean 4xx, never a 500', async () => {
      const huge = 'x'.repeat(100_000);
      // Too long for a request line: Node refuses it before any of our code runs.
      const inUrl = await get(authUrl({ state: huge }));
      expect(inUrl.status).toBeGreaterThanOrEqual(400);
      expect(inUrl.status).toBeLessThan(500);
      expect(inUrl.location).toBeNull();
      expect(inUrl.body).not.toMatch(STACK_TRACE);

      expectErrorPage(await get(authUrl({ client_id: 'c'.repeat(8_000) })));
      expectErrorPage(await get(authUrl({ redirect_uri: `${RP}/cb/${'x'.repeat(8_000)}` })));

      // At the token endpoint, a body over oidc-provider's limit is an OAuth error, not a crash.
      const token = await fetch(web.serverMetadata().token_endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', client_id: f.web.id, code: huge }),
      });
      expect(token.status).toBe(400);
      expect(await token.json()).toMatchObject({ error: 'invalid_request' });
    });
  });

  describe('RP-initiated logout', () => {
    it('asks the person to confirm, then returns to the registered post-logout URI with state; the session is gone', async () => {
      const { browser, idToken } = await signedIn();
      expect(await stillSignedIn(browser)).toBe(true);

      const url = oidc.buildEndSessionUrl(web, { id_token_hint: idToken, post_logout_redirect_uri: `${RP}/bye`, state: 'see-you' });
      const confirm = await browser.open(url.href);
      expect(confirm.status).toBe(200);
      expect(confirm.stoppedAt).toBeUndefined();
      expect(confirm.doc.querySelector('button[name="logout"]')?.getAttribute('value')).toBe('yes');
      // The app's name is shown as text, never as markup.
      expect(confirm.doc.querySelector('main p')?.text).toContain('Wiki <b>&</b>');
      expect(confirm.body).not.toContain('<b>&</b>');

      const done = await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
      expect(done.stoppedAt).toBe(`${RP}/bye?state=see-you`);

      const page = await browser.open(authUrl({ prompt: 'none' }));
      expect(responseParams(page.stoppedAt!).get('error')).toBe('login_required');
    });

    it('asks for confirmation when the app sends no id_token_hint', async () => {
      const { browser } = await signedIn();
      const url = oidc.buildEndSessionUrl(web, { client_id: f.web.id, post_logout_redirect_uri: `${RP}/bye` });
      const confirm = await browser.open(url.href);
      expect(confirm.status).toBe(200);
      expect(confirm.stoppedAt).toBeUndefined();
      expect(confirm.doc.querySelector('button[name="logout"]')).toBeTruthy();
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it('never redirects to a post-logout URI that is not registered exactly', async () => {
      const { browser, idToken } = await signedIn();
      for (const postLogout of [`${EVIL}/bye`, `${RP}/bye?foo=bar`, `${RP}/bye/`, `${RP}/BYE`, `${RP}/cb`]) {
        const url = oidc.buildEndSessionUrl(web, { id_token_hint: idToken, post_logout_redirect_uri: postLogout });
        const answer = await get(url.href, { headers: { cookie: await browser.jar.getCookieString(url.href) } });
        expectErrorPage(answer);
        expect(answer.body).toContain('post_logout_redirect_uri not registered');
        expect(answer.body).not.toContain('evil.example');
      }
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it('refuses a tampered id_token_hint: unsigned, signed by another key, or HMAC keyed with our public key', async () => {
      const { browser, idToken } = await signedIn();
      const header = jose.decodeProtectedHeader(idToken);
      const claims = jose.decodeJwt(idToken);
      const other = await jose.generateKeyPair('RS256');
      const { keys } = (await (await fetch(`${f.issuer}/jwks`)).json()) as { keys: jose.JWK[] };
      const publicPem = await jose.exportSPKI((await jose.importJWK(keys.find((key) => key.kid === header.kid)!, 'RS256')) as jose.CryptoKey);

      const forged = [
        new jose.UnsecuredJWT(claims).encode(),
        await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: header.kid }).sign(other.privateKey),
        await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: header.kid }).sign(new TextEncoder().encode(publicPem)),
      ];
      for (const hint of forged) {
        const url = oidc.buildEndSessionUrl(web, { id_token_hint: hint, post_logout_redirect_uri: `${RP}/bye` });
        const answer = await get(url.href, { headers: { cookie: await browser.jar.getCookieString(url.href) } });
        expectErrorPage(answer);
        expect(answer.body).toContain('could not validate id_token_hint');
      }
      expect(await stillSignedIn(browser)).toBe(true);
    });
  });

  describe('attacker input on pages', () => {
    it('escapes login_hint on the login page', async () => {
      const page = await new Browser(f.issuer).open(authUrl({ login_hint: XSS }));
      expect(page.status).toBe(200);
      expect(page.doc.querySelector('input[name="email"]')?.getAttribute('value')).toBe(XSS);
      expect(page.body).not.toContain('<svg');
    });

    it('ignores ui_locales junk and never reflects it', async () => {
      const page = await new Browser(f.issuer).open(authUrl({ ui_locales: `${XSS} <script>alert(1)</script>` }));
      expect(page.status).toBe(200);
      expect(page.doc.querySelector('html')?.getAttribute('lang')).toBe('en');
      expect(page.headers.get('content-language')).toBe('en');
      expect(page.body).not.toContain('<svg');
      expect(page.body).not.toContain('<script>');
      expect(page.body).not.toContain('alert(1)');
    });

    it('never reflects markup from the request on the error page', async () => {
      for (const changes of [{ client_id: XSS }, { redirect_uri: `${RP}/cb${XSS}` }, { redirect_uri: undefined, state: XSS, ui_locales: XSS }]) {
        const answer = await get(authUrl(changes));
        expectErrorPage(answer);
        expect(answer.body).not.toContain('<svg');
      }
    });
  });
});
