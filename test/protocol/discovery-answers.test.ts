// Discovery and the JWKS are replayed from memory between key changes (src/http/static-answers.ts):
// a replayed answer must be the provider's own, headers included, and a key change must show at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

/** Status, body and headers, without those that belong to one answer. */
async function answer(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const kept = Object.fromEntries([...response.headers].filter(([name]) => !['date', 'x-request-id', 'keep-alive', 'connection'].includes(name)));
  return { status: response.status, headers: kept, body: await response.text() };
}

describe('discovery and JWKS answers (pglite)', () => {
  let store: TestStore;
  let server: TestServer;

  beforeAll(async () => {
    store = await createTestStore('pglite');
    server = await startServer(store);
  });
  afterAll(async () => {
    await server?.stop();
    await store?.dispose();
  });

  it('answers every plain fetch of discovery and the JWKS exactly as the first one, headers included', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const first = await answer(`${server.issuer}${path}`);
      expect(first.status).toBe(200);
      expect(first.headers['content-type']).toMatch(/^application\/(jwk-set\+)?json; charset=utf-8$/);
      expect(first.headers['x-content-type-options']).toBe('nosniff');
      for (let i = 0; i < 3; i++) expect(await answer(`${server.issuer}${path}`)).toEqual(first);
    }
    expect((await answer(`${server.issuer}/jwks`)).headers['cache-control']).toMatch(/^public, max-age=\d+$/);
  });

  it('still answers a browser (Origin) with CORS, and a fetch with a query string through the checks', async () => {
    const cors = await answer(`${server.issuer}/.well-known/openid-configuration`, { origin: 'https://spa.example.test' });
    expect(cors.status).toBe(200);
    expect(cors.headers['access-control-allow-origin']).toBeTruthy();
    const odd = await fetch(`${server.issuer}/.well-known/openid-configuration?x=%00`);
    expect(odd.status).toBe(400);
  });

  it('publishes a new key in the very next JWKS answer once the provider is rebuilt', async () => {
    const before = JSON.parse((await answer(`${server.issuer}/jwks`)).body) as { keys: { kid: string }[] };
    const created = await server.sesame.keys.rotate(['ES256'], new Date(Date.now() + 3600_000));
    expect(await server.sesame.host.refresh()).toBe(true);
    const after = JSON.parse((await answer(`${server.issuer}/jwks`)).body) as { keys: { kid: string }[] };
    expect(after.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([...before.keys.map((key) => key.kid), created[0]!.kid]));
    expect(after.keys.length).toBe(before.keys.length + 1);
  });
});
