// Finding 7 of issue 8: a grant type the client is not registered for was answered
// `invalid_request`; RFC 6749 §5.2 says `unauthorized_client`. Seen from openid-client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { discover, oauthError, oidc } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';

describe.each(STORES)('a grant type the client is not registered for, on %s', (kind) => {
  let f: Fixture;
  let codeOnly: oidc.Configuration;
  beforeAll(async () => {
    f = await startFixture(kind);
    const { client, secret } = await f.server.sesame.clients.add({ client_name: 'Code only', redirect_uris: [`${RP}/code-only/cb`], grant_types: ['authorization_code'] });
    codeOnly = await discover(f.issuer, client.clientId, secret);
  });
  afterAll(() => f?.stop());

  it('is unauthorized_client for client_credentials asked by a client registered only for authorization_code', async () => {
    expect(await oauthError(oidc.clientCredentialsGrant(codeOnly))).toBe('unauthorized_client');
  });

  it('is unauthorized_client for refresh_token asked by a client registered only for authorization_code', async () => {
    expect(await oauthError(oidc.refreshTokenGrant(codeOnly, 'a-refresh-token-it-never-got'))).toBe('unauthorized_client');
  });

  it('is unauthorized_client for refresh_token asked by a client-credentials-only client', async () => {
    const batch = await discover(f.issuer, f.batch.id, f.batch.secret);
    expect(await oauthError(oidc.refreshTokenGrant(batch, 'a-refresh-token-it-never-got'))).toBe('unauthorized_client');
  });

  it('leaves the other answers alone: a registered grant with a bad token is still invalid_grant, a wrong secret invalid_client', async () => {
    const web = await discover(f.issuer, f.web.id, f.web.secret);
    expect(await oauthError(oidc.refreshTokenGrant(web, 'not-a-refresh-token'))).toBe('invalid_grant');
    const wrongSecret = await discover(f.issuer, codeOnly.clientMetadata().client_id, 'not the secret');
    expect(await oauthError(oidc.clientCredentialsGrant(wrongSecret))).toBe('invalid_client');
  });
});
