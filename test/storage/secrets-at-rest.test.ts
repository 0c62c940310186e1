// SECRETS_ENCRYPTION_KEY: a copy of the database alone no longer holds the private signing keys or
// the cookie keys. Turning it on later seals what was stored before, keeping the same keys (tokens
// and sessions carry on); starting without it, or with another, is refused with a plain reason;
// changing it goes through SECRETS_ENCRYPTION_KEY_PREVIOUS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

const KEY = 'test-only secrets encryption key, 40+ characters long';
const NEW_KEY = 'the next test-only secrets encryption key, also long';
const PASSWORD = 'a long enough passphrase';
const RP = 'https://rp.example.test';

describe.each(STORES)('secrets at rest on %s', (kind) => {
  let store: TestStore;
  let server: TestServer | undefined;

  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(async () => {
    await server?.stop();
    await store?.dispose();
  });

  const restart = async (env: Record<string, string>) => {
    await server?.stop();
    server = undefined;
    server = await startServer(store, env);
    return server;
  };
  const jwksKids = async (s: TestServer) => ((await (await fetch(`${s.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort();
  const storedRows = async (s: TestServer) => ({
    keys: (await s.db.prisma.signingKey.findMany()).map((row) => row.privateJwk),
    secrets: (await s.db.prisma.serverSecret.findMany()).map((row) => row.value),
  });

  it('seals what was stored in the clear once the key is set, keeping the same keys and sessions', async () => {
    // First start without the setting: the keys are stored as JWKs.
    let s = await restart({});
    const before = await storedRows(s);
    expect(before.keys.every((jwk) => typeof jwk === 'object' && 'd' in (jwk as object))).toBe(true);
    const kids = await jwksKids(s);
    const { client, secret } = await s.sesame.clients.add({
      client_name: 'Sealed check',
      redirect_uris: [`${RP}/cb`],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      public: false,
      first_party: true,
    });
    await s.sesame.users.create({ email: 'sam@example.com', password: PASSWORD, emailVerified: true, givenName: 'Sam', familyName: 'Seal' });
    let rp: oidc.Configuration = await discover(s.issuer, client.clientId, secret);
    const browser = new Browser(s.issuer);
    const flow = await beginSignIn(rp, `${RP}/cb`);
    const tokens = await redeem(rp, flow, await signIn(browser, flow, 'sam@example.com', PASSWORD));

    // Restart with the key: everything secret is now sealed, and nothing readable is left.
    s = await restart({ SECRETS_ENCRYPTION_KEY: KEY });
    const after = await storedRows(s);
    expect(after.keys).toHaveLength(before.keys.length);
    for (const value of [...after.keys, ...after.secrets]) {
      expect(value).toEqual(expect.stringMatching(/^sealed:v1\./));
      for (const jwk of before.keys) expect(value).not.toContain((jwk as { d: string }).d);
    }
    for (const plain of before.secrets) for (const { secret } of JSON.parse(plain) as { secret: string }[]) expect(JSON.stringify(after)).not.toContain(secret);

    // The same keys are published; the session cookie and the refresh token from before still work.
    expect(await jwksKids(s)).toEqual(kids);
    rp = await discover(s.issuer, client.clientId, secret);
    const silent = await beginSignIn(rp, `${RP}/cb`, { prompt: 'none' });
    const page = await browser.open(silent.url);
    expect((await redeem(rp, silent, page.stoppedAt!)).claims()!.email).toBe('sam@example.com');
    expect((await oidc.refreshTokenGrant(rp, tokens.refresh_token!)).access_token).toBeTruthy();

    // New keys made with the setting on are sealed from the start.
    const [rotated] = await s.sesame.keys.rotate(['ES256'], new Date(Date.now() + 3600_000));
    const row = await s.db.prisma.signingKey.findUniqueOrThrow({ where: { kid: rotated!.kid } });
    expect(row.privateJwk).toEqual(expect.stringMatching(/^sealed:v1\./));
    await s.sesame.host.refresh();
    expect(await jwksKids(s)).toContain(rotated!.kid);
    expect(s.logs.join('\n')).not.toContain(KEY);
  });

  it('refuses to start without the key, or with another, saying why', async () => {
    await server?.stop();
    server = undefined;
    await expect(startServer(store, {})).rejects.toThrow('the database holds secrets encrypted with SECRETS_ENCRYPTION_KEY, which is not set');
    await expect(startServer(store, { SECRETS_ENCRYPTION_KEY: 'another key that is also long enough to pass' })).rejects.toThrow(
      'the database holds secrets encrypted with another SECRETS_ENCRYPTION_KEY than the one set',
    );
    // With the right key it starts again.
    const s = await restart({ SECRETS_ENCRYPTION_KEY: KEY });
    expect((await fetch(`${s.issuer}/healthz`)).status).toBe(200);
  });

  it('changes the key: with the old one as SECRETS_ENCRYPTION_KEY_PREVIOUS, everything is sealed again under the new', async () => {
    const kids = await jwksKids(server!);
    const before = await storedRows(server!);
    const s = await restart({ SECRETS_ENCRYPTION_KEY: NEW_KEY, SECRETS_ENCRYPTION_KEY_PREVIOUS: KEY });
    expect(await jwksKids(s)).toEqual(kids);
    const after = await storedRows(s);
    for (const value of [...after.keys, ...after.secrets]) {
      expect(value).toEqual(expect.stringMatching(/^sealed:v1\./));
      expect([...before.keys, ...before.secrets]).not.toContain(value);
    }
    // The old key is no longer needed, and no longer enough.
    expect(await jwksKids(await restart({ SECRETS_ENCRYPTION_KEY: NEW_KEY }))).toEqual(kids);
    await server!.stop();
    server = undefined;
    await expect(startServer(store, { SECRETS_ENCRYPTION_KEY: KEY })).rejects.toThrow('another SECRETS_ENCRYPTION_KEY');
  });
});
