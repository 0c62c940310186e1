// Issue 8, finding 2: NUL bytes gave 500s. `GET /auth?client_id=%00`, a login_hint with %00,
// `refresh_token=%00` or `code=a%00b` at /token, `token=a%00b` at introspection: PostgreSQL
// refused the string (22021 / 22P05), the client got server_error and the log a stack. Every
// endpoint and form, fed NUL, a control character, bytes that are not UTF-8, a long and a huge
// value in each of its parameters, answers a clean 4xx, and the server logs no error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { csrfOf, heading } from '../support/pages.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

/** Already percent-encoded, as they travel: some of them cannot be a JavaScript string. */
const BAD_VALUES: Record<string, string> = {
  NUL: '%00',
  'NUL inside': 'a%00b',
  'a control character': 'x%01y',
  'bytes that are not UTF-8': '%C3%28',
  'a lone surrogate, encoded': '%ED%A0%80',
  'a 10 KB value': 'a'.repeat(10_000),
  'a 100 KB value': 'a'.repeat(100_000),
};

type Fields = Record<string, string>;

/** `fields` urlencoded, except `name`, whose value goes as the raw `encoded`. */
function withBad(fields: Fields, name: string, encoded: string): string {
  return [...Object.entries(fields).filter(([key]) => key !== name).map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`), `${name}=${encoded}`].join('&');
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

interface Target {
  method: 'GET' | 'POST';
  path: string;
  /** The parameters a real request sends; each one in turn carries the bad value. */
  fields: Fields;
  headers?: Record<string, string>;
  browser?: Browser;
}

describe.each(STORES)('control characters, bad UTF-8 and absurd lengths on %s (issue 8, finding 2: NUL bytes gave 500s)', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;
  let targets: Record<string, Target>;

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
    const reader = await f.server.sesame.clients.add({
      client_name: 'Directory sync',
      redirect_uris: [],
      post_logout_redirect_uris: [],
      grant_types: ['client_credentials'],
      public: false,
      first_party: false,
      allowed_scopes: ['users:read'],
    });
    const feedToken = (await oidc.clientCredentialsGrant(await discover(f.issuer, reader.client.clientId, reader.secret!), { scope: 'users:read' })).access_token;

    // A person signed in (for the sign-out confirmation), and a sign-in waiting at its login page.
    const signedIn = new Browser(f.issuer);
    const flow = await beginSignIn(web, `${RP}/cb`);
    const tokens = await redeem(web, flow, await signIn(signedIn, flow, f.alice.email, PASSWORD));
    const logoutPage = await signedIn.open(`${f.issuer}/session/end?client_id=${f.web.id}`);
    const xsrf = logoutPage.doc.querySelector('input[name="xsrf"]')!.getAttribute('value')!;

    const browser = new Browser(f.issuer);
    const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
    const uid = new URL(login.url).pathname.split('/')[2]!;
    const csrf = csrfOf(login);
    expect(csrf).toBeTruthy();

    const client = { authorization: basic(f.web.id, f.web.secret) };
    const authorization = {
      client_id: f.web.id,
      redirect_uri: `${RP}/cb`,
      response_type: 'code',
      scope: 'openid email',
      state: 'some-state',
      nonce: 'some-nonce',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      login_hint: 'alice@example.com',
      ui_locales: 'fr',
      claims: '{"userinfo":{"email":null}}',
    };
    const page = (path: string, fields: Fields = {}): Target => ({ method: 'GET', path, fields, browser });
    const form = (path: string, fields: Fields): Target => ({ method: 'POST', path, fields: { csrf, ...fields }, browser });

    targets = {
      discovery: { method: 'GET', path: '/.well-known/openid-configuration', fields: { x: '1' } },
      jwks: { method: 'GET', path: '/jwks', fields: { x: '1' } },
      'GET /auth': { method: 'GET', path: '/auth', fields: authorization },
      'POST /auth': { method: 'POST', path: '/auth', fields: authorization },
      'pushed authorization request': { method: 'POST', path: '/request', fields: authorization, headers: client },
      'token, authorization_code': { method: 'POST', path: '/token', fields: { grant_type: 'authorization_code', code: 'a-code', redirect_uri: `${RP}/cb`, code_verifier: 'v'.repeat(43) }, headers: client },
      'token, refresh_token': { method: 'POST', path: '/token', fields: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, scope: 'openid' }, headers: client },
      'token, client_credentials': { method: 'POST', path: '/token', fields: { grant_type: 'client_credentials', scope: 'users:read' }, headers: { authorization: basic(reader.client.clientId, reader.secret!) } },
      'token, client_secret_post': { method: 'POST', path: '/token', fields: { grant_type: 'refresh_token', refresh_token: 'x', client_id: f.web.id, client_secret: f.web.secret } },
      introspection: { method: 'POST', path: '/token/introspection', fields: { token: tokens.access_token, token_type_hint: 'access_token' }, headers: client },
      revocation: { method: 'POST', path: '/token/revocation', fields: { token: 'not-a-token', token_type_hint: 'refresh_token' }, headers: client },
      'userinfo GET': { method: 'GET', path: '/me', fields: { x: '1' }, headers: { authorization: `Bearer ${tokens.access_token}` } },
      'userinfo POST': { method: 'POST', path: '/me', fields: { access_token: tokens.access_token } },
      'GET /session/end': { method: 'GET', path: '/session/end', fields: { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${RP}/bye`, state: 's', client_id: f.web.id, ui_locales: 'fr' } },
      'POST /session/end': { method: 'POST', path: '/session/end', fields: { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${RP}/bye`, state: 's', client_id: f.web.id } },
      '/session/end/confirm': { method: 'POST', path: '/session/end/confirm', fields: { xsrf, logout: 'yes' }, browser: signedIn },
      'users feed': { method: 'GET', path: '/api/v1/users', fields: { since: 'x', limit: '10' }, headers: { authorization: `Bearer ${feedToken}` } },
      'one user': { method: 'GET', path: `/api/v1/users/${f.alice.id}`, fields: { x: '1' }, headers: { authorization: `Bearer ${feedToken}` } },
      'the current step': page(`/interaction/${uid}`, { upstream: 'cancelled' }),
      login: form(`/interaction/${uid}/login`, { email: f.alice.email, password: 'a wrong password' }),
      'register page': page(`/interaction/${uid}/register`),
      register: form(`/interaction/${uid}/register`, { given_name: 'Zoé', family_name: 'Durand', email: 'zoe@example.com', password: 'juniper otter 4 compass' }),
      'forgot page': page(`/interaction/${uid}/forgot`, { email: 'zoe@example.com' }),
      forgot: form(`/interaction/${uid}/forgot`, { email: 'zoe@example.com' }),
      'verify-email': form(`/interaction/${uid}/verify-email`, { action: 'resend' }),
      profile: form(`/interaction/${uid}/profile`, { given_name: 'Zoé', family_name: 'Durand' }),
      consent: form(`/interaction/${uid}/consent`, { decision: 'allow' }),
      abort: form(`/interaction/${uid}/abort`, {}),
      'confirmation link page': page('/account/verify', { token: 'a-token' }),
      'confirmation link': form('/account/verify', { token: 'a-token' }),
      'reset link page': page('/account/reset', { token: 'a-token' }),
      'reset link': form('/account/reset', { token: 'a-token', password: 'juniper otter 4 compass' }),
      'link-account link page': page('/account/link', { token: 'a-token' }),
      'link-account link': form('/account/link', { token: 'a-token' }),
      'forgot, outside a sign-in, page': page('/account/forgot', { email: 'zoe@example.com' }),
      'forgot, outside a sign-in': form('/account/forgot', { email: 'zoe@example.com' }),
      home: page('/', { x: '1' }),
    };
  });
  afterAll(() => f?.stop());

  async function send({ method, path, headers = {}, browser = new Browser(f.issuer) }: Target, encoded: string) {
    const url = `${f.issuer}${path}`;
    const response =
      method === 'GET'
        ? await browser.request(`${url}?${encoded}`, { headers })
        : await browser.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: f.issuer, ...headers }, body: encoded });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
  }

  const errorLines = () => f.server.logs.filter((line) => line.includes('"level":50'));

  it('answers every parameter of every endpoint and form with a clean 4xx, and logs no error', async () => {
    const unclean: string[] = [];
    for (const [name, target] of Object.entries(targets)) {
      for (const parameter of Object.keys(target.fields)) {
        for (const [what, encoded] of Object.entries(BAD_VALUES)) {
          const { status } = await send(target, withBad(target.fields, parameter, encoded));
          if (status < 400 || status >= 500) unclean.push(`${name}: ${parameter} = ${what} → ${status}`);
        }
      }
    }
    expect(unclean).toEqual([]);
    expect(errorLines()).toEqual([]);
  });

  it('refuses the reported requests as invalid_request: JSON for the back channel, a 400 page for the browser', async () => {
    const auth = await send(targets['GET /auth']!, 'client_id=%00');
    expect(auth.status).toBe(400);
    expect(auth.type).toMatch(/html/);
    expect(auth.body).toContain('invalid_request');

    const hinted = await send(targets['GET /auth']!, withBad(targets['GET /auth']!.fields, 'login_hint', 'alice%00@example.com'));
    expect(hinted.status).toBe(400);

    for (const [target, parameter, encoded] of [
      ['token, refresh_token', 'refresh_token', '%00'],
      ['token, authorization_code', 'code', 'a%00b'],
      ['introspection', 'token', 'a%00b'],
    ] as const) {
      const answer = await send(targets[target]!, withBad(targets[target]!.fields, parameter, encoded));
      expect(answer.status, target).toBe(400);
      expect(JSON.parse(answer.body), target).toEqual({ error: 'invalid_request', error_description: `parameter ${parameter} contains a control character` });
    }

    const feed = await send(targets['users feed']!, 'since=%C3%28');
    expect(feed.status).toBe(400);
    expect(JSON.parse(feed.body).error).toBe('invalid_request');

    const login = await send(targets.login!, withBad(targets.login!.fields, 'email', 'alice%00@example.com'));
    expect(login.status).toBe(400);
    expect(login.type).toMatch(/html/);
    expect(errorLines()).toEqual([]);
  });

  it('refuses paths that carry them, on our pages and the API', async () => {
    for (const path of ['/interaction/%00', '/interaction/a%00b/login', `/api/v1/users/${f.alice.id}%00`, '/account/%C3%28']) {
      const response = await fetch(`${f.issuer}${path}`, { headers: { authorization: 'Bearer x' } });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
    }
    expect(errorLines()).toEqual([]);
  });

  it('refuses a client_id with a NUL in an Authorization header cleanly (the edge does not read headers)', async () => {
    const response = await fetch(`${f.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(`${f.web.id}\u0000`, f.web.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    expect(errorLines()).toEqual([]);
  });

  it('still takes what is legitimate: JSON whitespace in claims, accents, a long state', async () => {
    const flow = await beginSignIn(web, `${RP}/cb`, {
      claims: JSON.stringify({ userinfo: { email: null, given_name: { essential: true } } }, null, '\t'),
      state: 'é'.repeat(2000),
    });
    const browser = new Browser(f.issuer);
    const login = await browser.open(flow.url);
    expect(heading(login)).toBe('Sign in');
    const callback = await signIn(browser, flow, f.alice.email, PASSWORD);
    expect(new URL(callback).searchParams.get('state')).toBe('é'.repeat(2000));
    const tokens = await redeem(web, flow, callback);
    expect(tokens.access_token).toBeTruthy();
  });
});
