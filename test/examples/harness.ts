// What every example's test needs: a running Sésame on a fresh store, the example's client
// registered from its own client file (its localhost origin swapped for the port the test uses),
// and people with roles.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientDefinition } from '../../src/clients/definition.ts';
import type { Env } from '../../src/config.ts';
import { PASSWORD } from '../support/fixture.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

export { PASSWORD };

export interface Harness {
  store: TestStore;
  server: TestServer;
  issuer: string;
  stop(): Promise<void>;
}

export async function startSesame(env: Env = {}): Promise<Harness> {
  const store = await createTestStore('pglite');
  const server = await startServer(store, env);
  return {
    store,
    server,
    issuer: server.issuer,
    async stop() {
      await server.stop();
      await store.dispose();
    },
  };
}

/** The example's client.json, as an admin would register it. */
export function clientFile(example: string): ClientDefinition & { client_id: string } {
  return JSON.parse(readFileSync(new URL(`../../clients/examples/${example}/client.json`, import.meta.url), 'utf8'));
}

/** Registers the example's client with `http://localhost:<port>` in its URIs replaced by `origin`. */
export async function registerExample(server: TestServer, example: string, origin?: string) {
  const file = clientFile(example);
  const moved = (uris: string[] = []) => uris.map((uri) => (origin ? uri.replace(/^http:\/\/localhost:\d+/, origin) : uri));
  const definition = { ...file, redirect_uris: moved(file.redirect_uris), post_logout_redirect_uris: moved(file.post_logout_redirect_uris) };
  const { client, secret } = await server.sesame.clients.add(definition);
  return { clientId: client.clientId, secret };
}

export async function createPerson(server: TestServer, email: string, roles: string[]) {
  const user = await server.sesame.users.create({ email, password: PASSWORD, emailVerified: true, givenName: email.split('@')[0], familyName: 'Example' });
  await server.sesame.users.setRoles(user.id, roles);
  return user;
}

/**
 * An ephemeral loopback port, open before the app exists (an app must know its own origin: its
 * redirect and post-logout URIs); `serve` then hands the requests to the app.
 */
export async function openPort() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    serve(handler: RequestListener) {
      server.on('request', handler);
    },
    stop() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns something other than undefined (no fixed sleeps). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, { timeoutMs = 15_000, everyMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
