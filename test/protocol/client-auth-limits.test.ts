// Failed client authentications are throttled per client and per address (checklist 35): a
// burst of wrong secrets ends in 429 with Retry-After, while the right secret still works (a
// client id is not enough to lock an app out) and other clients and addresses carry on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

describe.each(STORES)('client authentication limits on %s', (kind) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => f?.stop());

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const token = (id: string, secret: string, from: string) =>
    fetch(`${f.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: 'grant_type=client_credentials',
    });

  it('answers a burst of wrong secrets for one client with 429, from any address, and still serves the right secret', async () => {
    const { client, secret } = await f.server.sesame.clients.add({
      client_name: 'Guessed',
      redirect_uris: [],
      post_logout_redirect_uris: [],
      grant_types: ['client_credentials'],
      public: false,
      first_party: false,
    });
    for (let i = 0; i < 20; i++) expect((await token(client.clientId, `guess-${i}`, `198.51.100.${i}`)).status).toBe(401);
    const stopped = await token(client.clientId, 'guess-20', '198.51.100.200');
    expect(stopped.status).toBe(429);
    expect(Number(stopped.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(stopped.headers.get('cache-control')).toBe('no-store');
    expect(((await stopped.json()) as { error: string }).error).toBe('temporarily_unavailable');
    expect((await token(client.clientId, secret!, '198.51.100.202')).status).toBe(200);
    expect((await token(f.batch.id, f.batch.secret, '198.51.100.201')).status).toBe(200);
  });

  it('answers an address that keeps failing with 429, whichever clients it names', async () => {
    for (let i = 0; i < 20; i++) expect((await token(`unknown-${i}`, 'nothing', '192.0.2.10')).status).toBe(401);
    expect((await token('unknown-20', 'nothing', '192.0.2.10')).status).toBe(429);
    expect((await token('unknown-21', 'nothing', '192.0.2.11')).status).toBe(401);
    expect((await token(f.batch.id, f.batch.secret, '192.0.2.10')).status).toBe(200);
  });
});
