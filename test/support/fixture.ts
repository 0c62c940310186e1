// One running Sésame per suite and store, with the relying apps and people the protocol tests use.
import type { Env } from '../../src/config.ts';
import { createTestStore } from './stores.ts';
import type { StoreKind, TestStore } from './stores.ts';
import { startServer } from './server.ts';
import type { TestServer } from './server.ts';

export const RP = 'https://rp.example.test';
export const PASSWORD = 'correct horse battery staple';

export interface Fixture {
  store: TestStore;
  server: TestServer;
  issuer: string;
  web: { id: string; secret: string };
  firstParty: { id: string; secret: string };
  spa: { id: string; redirectUri: string };
  batch: { id: string; secret: string };
  alice: { id: string; email: string };
  stop(): Promise<void>;
}

export async function startFixture(kind: StoreKind, env: Env = {}): Promise<Fixture> {
  const store = await createTestStore(kind);
  const server = await startServer(store, env);
  const { clients, users } = server.sesame;
  const web = await clients.add({
    client_name: 'Wiki <b>&</b>',
    redirect_uris: [`${RP}/cb`],
    post_logout_redirect_uris: [`${RP}/bye`],
    grant_types: ['authorization_code', 'refresh_token'],
    public: false,
    first_party: false,
  });
  const firstParty = await clients.add({
    client_name: 'Intranet',
    redirect_uris: [`${RP}/intranet/cb`],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    public: false,
    first_party: true,
  });
  const spaRedirect = 'http://127.0.0.1:5173/cb';
  const spa = await clients.add({
    client_name: 'Dashboard',
    redirect_uris: [spaRedirect],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    public: true,
    first_party: true,
  });
  const batch = await clients.add({
    client_name: 'Nightly batch',
    redirect_uris: [],
    post_logout_redirect_uris: [],
    grant_types: ['client_credentials'],
    public: false,
    first_party: false,
  });
  const alice = await users.create({ email: 'Alice@Example.com', password: PASSWORD, emailVerified: true, givenName: 'Alice', familyName: 'Liddell' });
  return {
    store,
    server,
    issuer: server.issuer,
    web: { id: web.client.clientId, secret: web.secret! },
    firstParty: { id: firstParty.client.clientId, secret: firstParty.secret! },
    spa: { id: spa.client.clientId, redirectUri: spaRedirect },
    batch: { id: batch.client.clientId, secret: batch.secret! },
    alice: { id: alice.id, email: alice.email },
    async stop() {
      await server.stop();
      await store.dispose();
    },
  };
}
