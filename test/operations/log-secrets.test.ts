// The logs of a whole run, read as an attacker who got hold of them would: a sign-in with a
// wrong then a right password, the code redeemed with PKCE, userinfo, introspection, refresh with
// rotation, a refresh token used twice, revocation, client credentials, a wrong client secret, a
// registration and its e-mail link. No password, secret, code, token, link or cookie appears in
// any line (nor its percent-encoded or base64 form), and every response the apps and browsers got
// is one `info` line whose request id is the X-Request-Id they were given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { beginSignIn, discover, oauthError, oidc, redeem, signIn } from '../support/rp.ts';
import { INTRANET_CB, register, startHarness, trySignIn } from '../self-service/harness.ts';
import type { Harness } from '../self-service/harness.ts';

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  route?: string;
  method?: string;
  status?: number;
  ms?: number;
}

const INFO = 30;

describe.each(STORES)('what the logs keep on %s', (kind) => {
  let h: Harness;
  const browsers: Browser[] = [];
  /** Every response fetched in this suite, with its X-Request-Id. */
  const responses: { url: string; requestId: string | null }[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    // Every HTTP client here (openid-client, the test browser) goes through fetch.
    globalThis.fetch = async (input, init) => {
      const response = await realFetch(input, init);
      responses.push({ url: input instanceof Request ? input.url : String(input), requestId: response.headers.get('x-request-id') });
      return response;
    };
    h = await startHarness(kind);
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await h?.stop();
  });

  it('never holds a secret, and holds one request line per response', async () => {
    const { f } = h;
    h.keep(f.web.secret, f.firstParty.secret, f.batch.secret);
    for (const [id, secret] of [[f.firstParty.id, f.firstParty.secret], [f.batch.id, f.batch.secret]] as const) {
      h.keep(Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64'));
    }
    const person = await h.account();
    const browser = h.browser();
    browsers.push(browser);

    // A wrong password, then the right one; the code redeemed with PKCE.
    expect(await trySignIn(h, h.browser(), person.email, 'wrong guess of a password 42')).toBe('wrong');
    const flow = await beginSignIn(h.intranet, INTRANET_CB);
    h.keep(flow.verifier);
    const callback = await signIn(browser, flow, person.email, person.password);
    h.keep(new URL(callback).searchParams.get('code'));
    const first = await redeem(h.intranet, flow, callback);
    h.keep(first.access_token, first.refresh_token, first.id_token);

    expect((await oidc.fetchUserInfo(h.intranet, first.access_token, oidc.skipSubjectCheck)).email).toBe(person.email);
    expect((await oidc.tokenIntrospection(h.intranet, first.access_token)).active).toBe(true);
    const second = await oidc.refreshTokenGrant(h.intranet, first.refresh_token!);
    h.keep(second.access_token, second.refresh_token, second.id_token);
    // The rotated-out refresh token comes back: its grant is revoked, and the log says so.
    expect(await oauthError(oidc.refreshTokenGrant(h.intranet, first.refresh_token!))).toBe('invalid_grant');
    await oidc.tokenRevocation(h.intranet, second.refresh_token!);

    const batch = await discover(f.issuer, f.batch.id, f.batch.secret);
    const machine = await oidc.clientCredentialsGrant(batch);
    h.keep(machine.access_token);
    expect((await oidc.tokenIntrospection(batch, machine.access_token)).active).toBe(true);
    const wrongSecret = 'not-the-batch-secret-but-close';
    h.keep(wrongSecret);
    expect(await oauthError(oidc.clientCredentialsGrant(await discover(f.issuer, f.batch.id, wrongSecret)))).toBe('invalid_client');

    // A registration, and the confirmation link it mails, followed.
    const newcomer = h.browser();
    browsers.push(newcomer);
    await register(h, newcomer, { email: 'newcomer@example.com', password: 'copper lantern meadow 7' });
    const mail = await h.latest('newcomer@example.com', 'verify-email');
    expect(mail.token).toBeDefined();
    await newcomer.open(mail.link!);

    await f.server.sesame.audit.settled();
    await f.server.sesame.afterResponse.settled();
    for (const jar of browsers.map((b) => b.jar)) {
      for (const cookie of await jar.getCookies(f.issuer)) if (cookie.value.length >= 16) h.keep(cookie.value);
    }

    const logs = f.server.logs;
    const text = logs.join('\n');
    for (const secret of h.secrets) {
      for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64url')])) {
        expect(text.includes(form), `the logs mention ${form.slice(0, 6)}…`).toBe(false);
      }
    }

    const lines = logs.map((line) => JSON.parse(line) as LogLine);
    expect(lines.some((line) => line.level >= 40 && line.msg.includes('used twice'))).toBe(true);
    const requests = lines.filter((line) => line.msg === 'request' && line.level === INFO);
    const requestIds = responses.filter(({ url }) => url.startsWith(`${f.issuer}/`)).map(({ requestId }) => requestId);
    expect(requestIds.length).toBeGreaterThan(20);
    expect(requests.map((line) => line.requestId).sort()).toEqual([...requestIds].sort());
    for (const line of requests) {
      expect(line).toMatchObject({ method: expect.any(String), route: expect.any(String), status: expect.any(Number), ms: expect.any(Number) });
      expect(line.route).not.toContain('?');
    }
  });
});
