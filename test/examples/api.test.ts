// clients/examples/api against a running Sésame: the API accepts JWT access tokens issued for it
// (a back end's client-credentials token, a person's token with roles) and refuses the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../clients/examples/api/api.ts';
import { fetchOrders } from '../../clients/examples/api/caller.ts';
import { Browser } from '../support/browser.ts';
import { beginSignIn, discover, oidc, signIn } from '../support/rp.ts';
import { createPerson, openPort, PASSWORD, registerExample, startSesame } from './harness.ts';
import type { Harness } from './harness.ts';

const ORDERS_API = 'https://api.example.test';
const OTHER_API = 'https://other.example.test';
const WEB_CALLBACK = 'https://web.example.test/callback';

describe('example: an API verifying JWT access tokens (jose)', () => {
  let sesame: Harness;
  let api: Awaited<ReturnType<typeof openPort>>;
  let worker: { clientId: string; secret: string };
  let web: oidc.Configuration;

  beforeAll(async () => {
    sesame = await startSesame();
    const { clients, apis } = sesame.server.sesame;
    const registered = await registerExample(sesame.server, 'api');
    worker = { clientId: registered.clientId, secret: registered.secret! };
    const webApp = await clients.add({ client_name: 'Orders web app', redirect_uris: [WEB_CALLBACK], grant_types: ['authorization_code'], public: false, first_party: true });
    web = await discover(sesame.issuer, webApp.client.clientId, webApp.secret);
    await apis.add({ id: ORDERS_API, name: 'Orders API', scopes: ['orders:read'], clientIds: [worker.clientId, webApp.client.clientId] });
    await apis.add({ id: OTHER_API, name: 'Another API', scopes: ['other:read'], clientIds: [worker.clientId] });
    await createPerson(sesame.server, 'erin@example.com', ['admin', 'member']);
    await createPerson(sesame.server, 'finn@example.com', ['member']);
    api = await openPort();
    api.serve(await createApp({ issuer: sesame.issuer, audience: ORDERS_API }));
  });

  afterAll(async () => {
    await api?.stop();
    await sesame?.stop();
  });

  const get = (path: string, token: string) => fetch(`${api.origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const workerConfig = () => discover(sesame.issuer, worker.clientId, worker.secret);

  async function personToken(email: string) {
    const flow = await beginSignIn(web, WEB_CALLBACK, { scope: 'openid email roles orders:read', resource: ORDERS_API });
    const callback = await signIn(new Browser(sesame.issuer), flow, email, PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(web, new URL(callback), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce }, { resource: ORDERS_API });
    return tokens.access_token;
  }

  it('answers a back end calling with a client-credentials token for the API', async () => {
    const answer = await fetchOrders({ issuer: sesame.issuer, clientId: worker.clientId, clientSecret: worker.secret, audience: ORDERS_API, apiUrl: api.origin });
    expect(answer).toEqual({ caller: worker.clientId, orders: [{ id: 1, item: 'Coffee beans' }] });
  });

  it('refuses an opaque token (no resource named), a token for another API, and no token', async () => {
    const config = await workerConfig();
    const opaque = await oidc.clientCredentialsGrant(config, {});
    const other = await oidc.clientCredentialsGrant(config, { scope: 'other:read', resource: OTHER_API });
    for (const token of [opaque.access_token, other.access_token, 'not-a-token']) {
      const response = await get('/orders', token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
    expect((await fetch(`${api.origin}/orders`)).status).toBe(401);
  });

  it('lets a person with the admin role into the admin route, and a member only into the others', async () => {
    const admin = await personToken('erin@example.com');
    expect((await get('/orders/report', admin)).status).toBe(200);

    const member = await personToken('finn@example.com');
    expect((await get('/orders', member)).status).toBe(200);
    const refused = await get('/orders/report', member);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'forbidden' });
  });
});
