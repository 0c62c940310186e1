// Keys that rotate themselves (KEY_ROTATION_INTERVAL), on two replicas sharing one PostgreSQL
// database behind one issuer, with intervals of seconds: exactly one successor per rotation
// although both replicas run the schedule; a new key is in both replicas' JWKS before any
// token is signed with it; an old one stays published until the tokens it signed have
// expired, then disappears; the cookie keys rotate too without ending a session; and
// `keys revoke` withdraws a key on both replicas at once.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsed, runAdmin } from '../support/admin-cli.ts';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { csrfOf } from '../support/pages.ts';
import { beginSignIn, discover, redeem, signIn } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

const PASSWORD = 'a long enough passphrase';
const RP = 'https://rp.example.test';
const INTERVAL = 15;
const SETTINGS = {
  KEY_ROTATION_INTERVAL: String(INTERVAL),
  KEY_REFRESH_INTERVAL: '1',
  JWKS_MAX_AGE: '1',
  KEY_RETIREMENT_GRACE: '1',
  ID_TOKEN_TTL: '5',
  LOG_LEVEL: 'info',
};

/** Polls `check` until it returns a value, for at most `seconds`. */
async function until<T>(what: string, check: () => Promise<T | undefined | false>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(STORES)('keys rotating themselves on two replicas sharing %s', (kind) => {
  if (kind === 'pglite') {
    it.skip('needs a database two servers can share: the embedded store belongs to one process (set TEST_DATABASE_URL)', () => {});
    return;
  }

  let store: TestStore;
  let cwd: string;
  let a: TestServer;
  let b: TestServer;
  let issuer: string;
  let client: { id: string; secret: string };
  let browser: Browser;
  let refreshToken: string;
  /** A form rendered before the cookie keys rotate (its CSRF token is derived from the old key). */
  let formBrowser: Browser;
  let oldForm: Page;
  const replicas = () => [
    { name: 'A', server: a, url: a.issuer },
    { name: 'B', server: b, url: `http://127.0.0.1:${b.config.port}` },
  ];

  const jwksOf = async (url: string) => {
    const response = await fetch(`${url}/jwks`);
    expect(response.headers.get('cache-control')).toBe('public, max-age=1');
    return ((await response.json()) as { keys: { kid: string; alg: string; d?: string }[] }).keys;
  };
  /** A fresh ID token from the replica at `url` (a refresh token grant: no browser needed). */
  const idTokenFrom = async (url: string) => {
    const response = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    const body = (await response.json()) as { id_token: string; refresh_token: string };
    expect(response.status, JSON.stringify(body)).toBe(200);
    refreshToken = body.refresh_token;
    return { token: body.id_token, kid: decodeProtectedHeader(body.id_token).kid!, exp: decodeJwt(body.id_token).exp! };
  };
  /** Verifies as a relying app does, with a fresh copy of the replica's JWKS. */
  const verifies = (url: string, token: string, currentDate?: Date) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${url}/jwks`)), { issuer, audience: client.id, ...(currentDate ? { currentDate } : {}) }).then(
      () => 'verified',
      (error: { code?: string }) => error.code,
    );
  const rsaKeys = async () => (await a.db.prisma.signingKey.findMany({ where: { alg: 'RS256' }, orderBy: { activatesAt: 'asc' } }));

  beforeAll(async () => {
    store = await createTestStore(kind);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-keys-'));
    a = await startServer(store, SETTINGS);
    issuer = a.issuer;
    // One issuer, two replicas, as behind a load balancer.
    b = await startServer(store, { ...SETTINGS, ISSUER: issuer });
    const added = await a.sesame.clients.add({
      client_name: 'Rotation check',
      redirect_uris: [`${RP}/cb`],
      post_logout_redirect_uris: [`${RP}/bye`],
      grant_types: ['authorization_code', 'refresh_token'],
      public: false,
      first_party: true,
    });
    client = { id: added.client.clientId, secret: added.secret! };
    await a.sesame.users.create({ email: 'rota@example.com', password: PASSWORD, emailVerified: true, givenName: 'Rota', familyName: 'Tion' });
    const rp = await discover(issuer, client.id, client.secret);
    browser = new Browser(issuer);
    const flow = await beginSignIn(rp, `${RP}/cb`);
    refreshToken = (await redeem(rp, flow, await signIn(browser, flow, 'rota@example.com', PASSWORD))).refresh_token!;
    formBrowser = new Browser(issuer);
    oldForm = await formBrowser.open(`${issuer}/account/forgot`);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await store?.dispose();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  const sessionSignature = async () => {
    const cookies = await browser.jar.getCookies(issuer);
    const session = cookies.find((cookie) => cookie.key === '_session')!;
    const signature = cookies.find((cookie) => cookie.key === '_session.sig')!;
    return { data: `_session=${session.value}`, signature: signature.value };
  };
  /** keygrip's signature: HMAC-SHA1, base64url. */
  const signedWith = (key: string, data: string) => createHmac('sha1', key).update(data).digest('base64url');

  it('publishes exactly one successor on both replicas before it signs, signs with it on both, and keeps the old key until its tokens expire', async () => {
    const first = await idTokenFrom(issuer);
    const seenOnBoth = new Set<string>();
    let lastOld = first;
    const signer = { A: '', B: '' };
    let successor: string | undefined;

    // Ask both replicas, in turn, for their JWKS and a token, until both sign with the successor
    // (or give up after a few rotation intervals: a bound on waiting, not a speed requirement).
    const giveUpAt = Date.now() + 120_000;
    for (let round = 0; !(successor && signer.A === successor && signer.B === successor); round++) {
      const [jwksA, jwksB] = await Promise.all(replicas().map((replica) => jwksOf(replica.url)));
      for (const { kid } of jwksA!) if (jwksB!.some((key) => key.kid === kid)) seenOnBoth.add(kid);
      // Never more than one successor waiting, although both replicas run the schedule.
      const pending = (await rsaKeys()).filter((key) => !key.revokedAt && key.activatesAt > new Date());
      expect(pending.length).toBeLessThanOrEqual(1);

      const replica = replicas()[round % 2]!;
      const token = await idTokenFrom(replica.url);
      if (token.kid === first.kid) {
        lastOld = token;
      } else {
        successor ??= token.kid;
        expect(token.kid).toBe(successor);
        // It was in both replicas' JWKS before the first token it signed.
        expect(seenOnBoth.has(token.kid), `${token.kid} signed before both replicas published it`).toBe(true);
        signer[replica.name as 'A' | 'B'] = token.kid;
      }
      expect(Date.now(), 'no successor within two minutes').toBeLessThan(giveUpAt);
    }

    // The last token the old key signed still verifies against both replicas' JWKS.
    for (const { url } of replicas()) expect(await verifies(url, lastOld.token)).toBe('verified');

    // The old key disappears from both, and only once every token it signed has expired.
    const goneAt = await until('the old key to be withdrawn on both replicas', async () => {
      const published = await Promise.all(replicas().map(async ({ url }) => (await jwksOf(url)).some((key) => key.kid === first.kid)));
      return !published.includes(true) && Date.now();
    });
    expect(goneAt).toBeGreaterThanOrEqual(lastOld.exp * 1000);
    const stillValid = new Date((lastOld.exp - 1) * 1000);
    for (const { url } of replicas()) expect(await verifies(url, lastOld.token, stillValid)).toBe('ERR_JWKS_NO_MATCHING_KEY');

    // One key per rotation: successive keys of an algorithm start signing at least an interval apart.
    const all = await a.db.prisma.signingKey.findMany({ orderBy: { activatesAt: 'asc' } });
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      const times = all.filter((key) => key.alg === alg).map((key) => key.activatesAt.getTime());
      expect(times.length, alg).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, alg).toBeGreaterThanOrEqual(INTERVAL * 1000);
    }
  }, 120_000);

  it('rotates the cookie keys: a session and a form from before the rotation carry on, and cookies and forms are then signed with the new key', async () => {
    const before = await sessionSignature();
    expect(a.sesame.secrets.cookieKeys()).toEqual(b.sesame.secrets.cookieKeys());
    const oldKey = a.sesame.secrets.cookieKeys().find((key) => signedWith(key, before.data) === before.signature)!;
    expect(oldKey).toBeDefined();

    const newKey = await until('both replicas to sign cookies with a new key', async () => {
      const [signingA, signingB] = [a.sesame.secrets.cookieKeys()[0], b.sesame.secrets.cookieKeys()[0]];
      return signingA !== oldKey && signingA === signingB && signingA;
    });
    // Exactly one successor: both replicas hold the same keys, at most one of them waiting.
    expect(a.sesame.secrets.cookieKeys()).toEqual(b.sesame.secrets.cookieKeys());
    expect(a.sesame.secrets.describe(new Date()).filter((view) => view.status === 'pending').length).toBeLessThanOrEqual(1);
    expect(a.sesame.secrets.cookieKeys()).toContain(oldKey);

    // A form rendered before the rotation is still accepted; one rendered now carries a token
    // from the new key, for the same browser.
    const freshForm = await formBrowser.open(`${issuer}/account/forgot`);
    expect(csrfOf(freshForm)).not.toBe(csrfOf(oldForm));
    const sent = await formBrowser.submit(oldForm, { email: 'rota@example.com' });
    expect(sent.status, sent.body.slice(0, 500)).toBe(200);

    // The session signed with the old key still signs the person in silently, on both replicas,
    // and comes back signed with the new key.
    const rp = await discover(issuer, client.id, client.secret);
    for (const { url } of replicas()) {
      const silent = await beginSignIn(rp, `${RP}/cb`, { prompt: 'none' });
      const page = await browser.open(silent.url.replace(issuer, url));
      expect(page.stoppedAt).toContain('code=');
      expect((await redeem(rp, silent, page.stoppedAt!)).claims()!.email).toBe('rota@example.com');
      const after = await sessionSignature();
      expect(after.signature).toBe(signedWith(newKey, after.data));
    }
  });

  it('revokes a key at once: tokens it signed stop verifying on both replicas, and both sign with a fresh key', async () => {
    const logout = (url: string, hint: string) => fetch(`${url}/session/end?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: `${RP}/bye` })}`, { redirect: 'manual' });
    // The key that signs now, caught just after the schedule switched to it so that it still
    // signs when the CLI revokes it (should it not, it is revoked as a replaced key; try again).
    const { signing, revoked } = await until('the signing key to be revoked', async () => {
      const previous = await idTokenFrom(issuer);
      const signing = await until('the schedule to switch keys', async () => {
        const token = await idTokenFrom(issuer);
        return token.kid !== previous.kid && token;
      });
      for (const { url } of replicas()) expect(await verifies(url, signing.token)).toBe('verified');
      expect((await logout(issuer, signing.token)).status).toBe(200);
      const revoked = parsed<{ kid: string; alg: string; was: string; replacement: string | null }>(await runAdmin(store.env, cwd, ['keys', 'revoke', signing.kid, '--json']));
      expect(revoked).toMatchObject({ kid: signing.kid, alg: 'RS256' });
      return revoked.was === 'active' && { signing, revoked };
    }, 150);
    expect(revoked.replacement).toEqual(expect.any(String));

    // Soon both replicas sign with the fresh key (or, should the schedule have replaced it already
    // on a slow machine, a later one), and no longer publish the revoked one.
    const { revokedAt } = await a.db.prisma.signingKey.findUniqueOrThrow({ where: { kid: signing.kid } });
    await until('both replicas to sign with a key made after the revocation', async () => {
      const made = new Set((await rsaKeys()).filter((key) => key.activatesAt >= revokedAt!).map((key) => key.kid));
      expect(made).toContain(revoked.replacement);
      for (const { url } of replicas()) if (!made.has((await idTokenFrom(url)).kid)) return false;
      return true;
    }, 10);
    for (const { url } of replicas()) {
      expect((await jwksOf(url)).map((key) => key.kid)).not.toContain(signing.kid);
      expect(await verifies(url, signing.token)).toBe('ERR_JWKS_NO_MATCHING_KEY');
      // Nor does Sésame itself accept it any more, as an id_token_hint.
      expect((await logout(url, signing.token)).status).toBe(400);
    }

    const listed = parsed<{ kid: string; status: string; revoked_at?: string }[]>(await runAdmin(store.env, cwd, ['keys', 'list', '--json']));
    expect(listed.find((key) => key.kid === signing.kid)).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
    const again = await runAdmin(store.env, cwd, ['keys', 'revoke', signing.kid]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already revoked/);
    const unknown = await runAdmin(store.env, cwd, ['keys', 'revoke', 'no-such-kid']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no signing key "no-such-kid"/);
  }, 240_000);
});
