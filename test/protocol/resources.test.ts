// Access tokens for the company's APIs (RFC 8707 resource indicators, RFC 9068 JWT access
// tokens), who may introspect what, and Sésame's own client-credentials scope users:read.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oauthError, oidc, signIn } from '../support/rp.ts';
import type { Flow } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

const ORDERS = 'https://orders.example.test';
const LEDGER = 'https://ledger.example.test/api';

describe.each(STORES)('APIs and their access tokens on %s', (kind) => {
  let f: Fixture;
  let web: oidc.Configuration;
  let intranet: oidc.Configuration;
  let batch: oidc.Configuration;
  /** The ledger API's own client, with which it introspects its (opaque) tokens. */
  let ledgerServer: oidc.Configuration;
  /** A confidential client no API lists. */
  let stranger: oidc.Configuration;
  /** A back end allowed Sésame's users:read. */
  let reader: oidc.Configuration;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  async function confidential(name: string, extra: Record<string, unknown> = {}) {
    const { client, secret } = await f.server.sesame.clients.add({ client_name: name, grant_types: ['client_credentials'], ...extra });
    return discover(f.issuer, client.clientId, secret);
  }

  beforeAll(async () => {
    f = await startFixture(kind);
    web = await discover(f.issuer, f.web.id, f.web.secret);
    intranet = await discover(f.issuer, f.firstParty.id, f.firstParty.secret);
    batch = await discover(f.issuer, f.batch.id, f.batch.secret);
    ledgerServer = await confidential('Ledger API');
    stranger = await confidential('Stranger');
    reader = await confidential('Directory sync', { allowed_scopes: ['users:read'] });
    const { apis } = f.server.sesame;
    await apis.add({ id: ORDERS, name: 'Orders API', scopes: ['orders:read', 'orders:write'], clientIds: [f.web.id, f.firstParty.id, f.batch.id], accessTokenTtl: 300 });
    await apis.add({ id: LEDGER, name: 'Ledger', scopes: ['ledger:read'], clientIds: [f.web.id, f.batch.id], serverClientId: ledgerServer.clientMetadata().client_id });
    jwks = createRemoteJWKSet(new URL(web.serverMetadata().jwks_uri!));
  });
  afterAll(() => f?.stop());

  const verify = (token: string, audience = ORDERS) => jwtVerify(token, jwks, { issuer: f.issuer, audience, typ: 'at+jwt' });
  const isJwt = (token: string) => {
    try {
      return Boolean(decodeProtectedHeader(token));
    } catch {
      return false;
    }
  };

  /** A sign-in that must need no consent page (first-party app). */
  async function signInWithoutConsent(config: oidc.Configuration, redirectUri: string, params: Record<string, string>) {
    const flow = await beginSignIn(config, redirectUri, params);
    const browser = new Browser(f.issuer);
    const page = await browser.submit(await browser.open(flow.url), { email: f.alice.email, password: PASSWORD });
    expect(page.stoppedAt, page.body.slice(0, 500)).toBeDefined();
    return { flow, callback: page.stoppedAt! };
  }

  const redeem = (config: oidc.Configuration, flow: Flow, callback: string, params: Record<string, string> = {}) =>
    oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce }, params);

  /** The error an authorization request came back to the app with. */
  async function authorizationError(config: oidc.Configuration, redirectUri: string, params: Record<string, string>) {
    const flow = await beginSignIn(config, redirectUri, params);
    const page = await new Browser(f.issuer).open(flow.url);
    expect(page.stoppedAt, page.body.slice(0, 500)).toBeDefined();
    return new URL(page.stoppedAt!).searchParams.get('error');
  }

  describe('authorization code and refresh with resource=', () => {
    it('issues a JWT access token for the API, verified with the published keys, with the roles granted', async () => {
      const { flow, callback } = await signInWithoutConsent(intranet, `${RP}/intranet/cb`, { scope: 'openid roles orders:read', resource: ORDERS });
      const tokens = await redeem(intranet, flow, callback, { resource: ORDERS });
      const { payload, protectedHeader } = await verify(tokens.access_token);
      expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
      expect(payload).toMatchObject({ iss: f.issuer, sub: f.alice.id, aud: ORDERS, client_id: f.firstParty.id, scope: 'orders:read', roles: ['member'] });
      expect(typeof payload.jti).toBe('string');
      // The API's own lifetime.
      expect(payload.exp! - payload.iat!).toBe(300);
      expect(tokens.expires_in).toBeLessThanOrEqual(300);

      const refreshed = await oidc.refreshTokenGrant(intranet, tokens.refresh_token!, { resource: ORDERS });
      expect((await verify(refreshed.access_token)).payload).toMatchObject({ sub: f.alice.id, scope: 'orders:read', roles: ['member'] });

      // Without resource=, the refresh gives the userinfo token again.
      const plain = await oidc.refreshTokenGrant(intranet, refreshed.refresh_token!);
      expect(isJwt(plain.access_token)).toBe(false);
      expect((await oidc.fetchUserInfo(intranet, plain.access_token, f.alice.id)).roles).toEqual(['member']);
    });

    it('leaves roles out when the roles scope was not granted', async () => {
      const { flow, callback } = await signInWithoutConsent(intranet, `${RP}/intranet/cb`, { scope: 'openid orders:read orders:write', resource: ORDERS });
      const tokens = await redeem(intranet, flow, callback, { resource: ORDERS });
      const { payload } = await verify(tokens.access_token);
      expect(payload.scope).toBe('orders:read orders:write');
      expect(payload).not.toHaveProperty('roles');
    });

    it('gives the opaque userinfo token, as before, when no resource is named', async () => {
      const { flow, callback } = await signInWithoutConsent(intranet, `${RP}/intranet/cb`, { scope: 'openid email orders:read' });
      const tokens = await redeem(intranet, flow, callback);
      expect(isJwt(tokens.access_token)).toBe(false);
      expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid']);
      expect((await oidc.fetchUserInfo(intranet, tokens.access_token, f.alice.id)).email).toBe(f.alice.email);
    });

    it('refuses an unknown API with invalid_target, back at the app', async () => {
      expect(await authorizationError(intranet, `${RP}/intranet/cb`, { scope: 'openid', resource: 'https://unknown.example.test' })).toBe('invalid_target');
    });

    it('refuses an API that does not allow the client with invalid_target', async () => {
      expect(await authorizationError(await discover(f.issuer, f.spa.id), f.spa.redirectUri, { scope: 'openid', resource: ORDERS })).toBe('invalid_target');
    });

    it('refuses at the token endpoint a resource the sign-in did not name', async () => {
      const { flow, callback } = await signInWithoutConsent(intranet, `${RP}/intranet/cb`, { scope: 'openid orders:read', resource: ORDERS });
      expect(await oauthError(redeem(intranet, flow, callback, { resource: LEDGER }))).toBe('invalid_target');
    });
  });

  describe('consent', () => {
    const scopesListed = (page: Page) => page.doc.querySelectorAll('.scopes li').map((li) => li.text.trim());

    it('names the API and its scopes on the consent page, in English and French, and remembers them', async () => {
      const flow = await beginSignIn(web, `${RP}/cb`, { scope: 'openid orders:read', resource: ORDERS });
      const browser = new Browser(f.issuer);
      const page = await browser.submit(await browser.open(flow.url), { email: f.alice.email, password: PASSWORD });
      expect(scopesListed(page)).toContain('Use Orders API on your behalf: orders:read');
      const allowed = await browser.submit(page, {}, { button: { name: 'decision', value: 'allow' } });
      const tokens = await redeem(web, flow, allowed.stoppedAt!, { resource: ORDERS });
      expect((await verify(tokens.access_token)).payload.scope).toBe('orders:read');

      // Another browser, another day: nothing new is asked, so no consent page.
      const again = await beginSignIn(web, `${RP}/cb`, { scope: 'openid orders:read', resource: ORDERS });
      const other = new Browser(f.issuer);
      const back = await other.submit(await other.open(again.url), { email: f.alice.email, password: PASSWORD });
      expect(back.stoppedAt, back.body.slice(0, 300)).toBeDefined();

      // What was never allowed is asked, in the person's language.
      const more = await beginSignIn(web, `${RP}/cb`, { scope: 'openid orders:write', resource: ORDERS, ui_locales: 'fr' });
      const third = new Browser(f.issuer);
      const asked = await third.submit(await third.open(more.url), { email: f.alice.email, password: PASSWORD });
      expect(scopesListed(asked)).toContain('Utiliser Orders API en votre nom : orders:write');
      expect(scopesListed(asked).join('\n')).not.toContain('orders:read');
    });
  });

  describe('client credentials with resource=', () => {
    it('issues a JWT for the API whose subject is the client, with the API scopes asked for', async () => {
      const tokens = await oidc.clientCredentialsGrant(batch, { resource: ORDERS, scope: 'orders:read openid' });
      const { payload } = await verify(tokens.access_token);
      expect(payload).toMatchObject({ sub: f.batch.id, client_id: f.batch.id, aud: ORDERS, scope: 'orders:read' });
      expect(payload).not.toHaveProperty('roles');
    });

    it('refuses an unknown API and an API that does not list the client with invalid_target', async () => {
      expect(await oauthError(oidc.clientCredentialsGrant(batch, { resource: 'https://unknown.example.test' }))).toBe('invalid_target');
      expect(await oauthError(oidc.clientCredentialsGrant(stranger, { resource: ORDERS }))).toBe('invalid_target');
    });
  });

  describe('introspection', () => {
    it('answers active only to the token’s client and to the API’s server client', async () => {
      const { access_token } = await oidc.clientCredentialsGrant(batch, { resource: LEDGER, scope: 'ledger:read' });
      expect(isJwt(access_token)).toBe(false);
      expect(await oidc.tokenIntrospection(batch, access_token)).toMatchObject({ active: true, client_id: f.batch.id, aud: LEDGER, scope: 'ledger:read' });
      expect(await oidc.tokenIntrospection(ledgerServer, access_token)).toMatchObject({ active: true, client_id: f.batch.id, aud: LEDGER });
      expect(await oidc.tokenIntrospection(stranger, access_token)).toEqual({ active: false });
      expect(await oidc.tokenIntrospection(web, access_token)).toEqual({ active: false });
    });

    it('shows a person’s token for the API to its server client, with the roles, and never a refresh token', async () => {
      const flow = await beginSignIn(web, `${RP}/cb`, { scope: 'openid roles ledger:read', resource: LEDGER });
      const tokens = await redeem(web, flow, await signIn(new Browser(f.issuer), flow, f.alice.email, PASSWORD), { resource: LEDGER });
      expect(await oidc.tokenIntrospection(ledgerServer, tokens.access_token)).toMatchObject({ active: true, sub: f.alice.id, aud: LEDGER, roles: ['member'] });
      expect(await oidc.tokenIntrospection(stranger, tokens.access_token)).toEqual({ active: false });
      expect(await oidc.tokenIntrospection(ledgerServer, tokens.refresh_token!)).toEqual({ active: false });
      expect((await oidc.tokenIntrospection(web, tokens.refresh_token!)).active).toBe(true);
      // A userinfo token has no API: only its own client sees it.
      const plain = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
      expect((await oidc.tokenIntrospection(web, plain.access_token)).active).toBe(true);
      expect(await oidc.tokenIntrospection(ledgerServer, plain.access_token)).toEqual({ active: false });
    });

    it('does not introspect JWT access tokens: the API verifies them itself', async () => {
      const { access_token } = await oidc.clientCredentialsGrant(batch, { resource: ORDERS });
      expect(await oauthError(oidc.tokenIntrospection(batch, access_token))).toBe('unsupported_token_type');
    });
  });

  describe('users:read, Sésame’s own API scope', () => {
    it('gives an allowed client an opaque token with users:read, which the provider finds', async () => {
      const tokens = await oidc.clientCredentialsGrant(reader, { scope: 'users:read' });
      expect(isJwt(tokens.access_token)).toBe(false);
      expect(tokens.scope).toBe('users:read');
      const found = await f.server.sesame.host.current().ClientCredentials.find(tokens.access_token);
      expect(found?.clientId).toBe(reader.clientMetadata().client_id);
      expect([...found!.scopes]).toContain('users:read');
    });

    it('refuses users:read with invalid_scope to a client not allowed it', async () => {
      expect(await oauthError(oidc.clientCredentialsGrant(batch, { scope: 'users:read' }))).toBe('invalid_scope');
    });

    it('refuses users:read in a person’s sign-in, even to a client allowed it', async () => {
      expect(await authorizationError(web, `${RP}/cb`, { scope: 'openid users:read' })).toBe('invalid_scope');
      const both = await f.server.sesame.clients.add({
        client_name: 'Both',
        redirect_uris: [`${RP}/both`],
        grant_types: ['authorization_code', 'client_credentials'],
        first_party: true,
        allowed_scopes: ['users:read'],
      });
      const config = await discover(f.issuer, both.client.clientId, both.secret);
      expect(await authorizationError(config, `${RP}/both`, { scope: 'openid users:read' })).toBe('invalid_scope');
    });
  });
});
