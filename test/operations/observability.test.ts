// What an operator's tools see: /healthz and /readyz as a load balancer asks them (draining
// included), /metrics as Prometheus scrapes it (behind METRICS_TOKEN), with counters that move
// with real traffic, and the request id a person can quote from an error page.
// A database that hangs or stops is covered by test/operations/database-faults.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oauthError, oidc, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { startReceiver } from '../webhooks/receiver.ts';

const METRICS_TOKEN = 'scraper-token-0123456789abcdef';

/** The value of one sample in Prometheus's text format, 0 when absent (a counter never hit). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return 0;
}

describe.each(STORES)('health, readiness and metrics on %s', (kind) => {
  let f: Fixture;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${f.issuer}${path}`, { headers });
  const scrape = async () => {
    const response = await get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(response.status).toBe(200);
    return response.text();
  };

  beforeAll(async () => {
    f = await startFixture(kind, { METRICS_TOKEN });
  });
  afterAll(() => f?.stop());

  it('says the process is up on /healthz and ready on /readyz, never cached', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    }
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect(await (await get('/readyz')).json()).toEqual({ status: 'ready' });
  });

  it('answers /readyz 503 while draining, naming the check, and /healthz 200 all along', async () => {
    f.server.sesame.lifecycle.draining = true;
    try {
      const response = await get('/readyz');
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'unavailable', check: 'draining' });
      expect((await get('/healthz')).status).toBe(200);
    } finally {
      f.server.sesame.lifecycle.draining = false;
    }
    expect((await get('/readyz')).status).toBe(200);
  });

  it('gives every response an X-Request-Id, keeping a plain one sent by a proxy', async () => {
    const generated = (await get('/healthz')).headers.get('x-request-id');
    expect(generated).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect((await get('/healthz')).headers.get('x-request-id')).not.toBe(generated);
    expect((await get('/healthz', { 'x-request-id': 'lb-7f3a.01_x' })).headers.get('x-request-id')).toBe('lb-7f3a.01_x');
    for (const unsafe of ['<script>', 'a'.repeat(65), 'two words']) {
      const id = (await get('/healthz', { 'x-request-id': unsafe })).headers.get('x-request-id');
      expect(id).not.toBe(unsafe);
      expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    }
  });

  it('shows the request id on error pages as a reference to quote, in English and French', async () => {
    const english = await new Browser(f.issuer).open(`${f.issuer}/no-such-page`);
    expect(english.status).toBe(404);
    expect(english.doc.querySelector('main')?.text ?? english.body).toContain(`Reference: ${english.headers.get('x-request-id')}`);
    const french = await new Browser(f.issuer, { 'accept-language': 'fr' }).open(`${f.issuer}/interaction/unknown-sign-in`);
    expect(french.status).toBeGreaterThanOrEqual(400);
    expect(french.body).toContain(`Référence : ${french.headers.get('x-request-id')}`);
  });

  it('keeps /metrics behind METRICS_TOKEN', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${METRICS_TOKEN}`, `Bearer ${METRICS_TOKEN}x`]) {
      const response = await get('/metrics', authorization ? { authorization } : {});
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await response.text()).not.toContain('sesame_');
    }
    const response = await get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts requests by route template, sign-ins, tokens, refusals and deliveries as they happen', async () => {
    const hook = await startReceiver();
    await f.server.sesame.webhooks.addEndpoint({ url: hook.url, events: ['session.created'] });
    const before = await scrape();
    const web = await discover(f.issuer, f.web.id, f.web.secret);
    const batch = await discover(f.issuer, f.batch.id, f.batch.secret);

    // A wrong password, then a sign-in that works.
    const flow = await beginSignIn(web, `${RP}/cb`);
    const browser = new Browser(f.issuer);
    const login = await browser.open(flow.url);
    expect((await browser.submit(login, { email: f.alice.email, password: 'not the password' })).status).toBe(401);
    await signIn(browser, flow, f.alice.email, PASSWORD);
    // Client credentials twice, and an app that keeps presenting a wrong secret until refused.
    await oidc.clientCredentialsGrant(batch);
    await oidc.clientCredentialsGrant(batch);
    const wrong = await discover(f.issuer, f.batch.id, 'not-the-secret');
    let refused = false;
    for (let attempt = 0; attempt < 30 && !refused; attempt++) refused = (await oauthError(oidc.clientCredentialsGrant(wrong))) === 'temporarily_unavailable';
    expect(refused).toBe(true);
    // An e-mail through the real mailer (the outbox transport in tests); both workers deliver.
    await f.server.sesame.mailer.send({ kind: 'password-changed', to: f.alice.email, locale: 'en', values: { resetLink: `${f.issuer}/account/forgot` } });
    const delivered = (text: string) => [sample(text, 'sesame_mail_deliveries_total', { outcome: 'sent' }), sample(text, 'sesame_webhook_deliveries_total', { outcome: 'delivered' })];
    let after = await scrape();
    for (const deadline = Date.now() + 10_000; delivered(after).some((n, i) => n === delivered(before)[i]) && Date.now() < deadline; after = await scrape()) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await hook.close();
    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved('sesame_sign_ins_total', { method: 'password', outcome: 'failure' })).toBe(1);
    expect(moved('sesame_sign_ins_total', { method: 'password', outcome: 'success' })).toBe(1);
    expect(moved('sesame_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(2);
    expect(moved('sesame_rate_limit_refusals_total', { limit: 'client-auth' })).toBeGreaterThanOrEqual(1);
    expect(moved('sesame_mail_deliveries_total', { outcome: 'sent' })).toBe(1);
    expect(moved('sesame_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(moved('sesame_http_requests_total', { method: 'POST', route: 'token', status: '200' })).toBe(2);
    expect(moved('sesame_http_requests_total', { method: 'POST', route: '/interaction/:uid/login', status: '401' })).toBe(1);
    expect(moved('sesame_http_request_duration_seconds_count', { method: 'POST', route: 'token' })).toBeGreaterThanOrEqual(2);
    expect(moved('sesame_http_requests_total', { method: 'GET', route: 'other', status: '404' })).toBe(0);

    // Route labels are templates and names: no uid, path or query string ever becomes a label.
    const routes = new Set([...after.matchAll(/route="([^"]*)"/g)].map(([, route]) => route));
    for (const route of routes) expect(route).toMatch(/^(\/[\w/:.-]*|[a-z_]+)$/);
    expect([...routes].some((route) => route.includes(new URL(login.url).pathname.split('/')[2]!))).toBe(false);

    // Gauges read on each scrape, and the process's own numbers.
    expect(after).toMatch(/^sesame_mail_queue_depth \d+$/m);
    expect(after).toMatch(/^sesame_webhook_queue_depth \d+$/m);
    expect(after).toMatch(/^sesame_process_resident_memory_bytes \d+/m);
    expect(after).toMatch(/^sesame_nodejs_eventloop_lag_seconds /m);
    if (kind === 'postgres') {
      expect(sample(after, 'sesame_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
      expect(after).toMatch(/^sesame_db_pool_connections\{state="waiting"\} \d+$/m);
    }
  });

  it('counts a sign-in refused by the account lock as locked, and the limit that refused it', async () => {
    const before = await scrape();
    const bob = await f.server.sesame.users.create({ email: 'bob@example.com', password: PASSWORD, emailVerified: true });
    const web = await discover(f.issuer, f.web.id, f.web.secret);
    let status = 0;
    for (let attempt = 0; attempt < 10 && status !== 429; attempt++) {
      const browser = new Browser(f.issuer);
      const login = await browser.open((await beginSignIn(web, `${RP}/cb`)).url);
      status = (await browser.submit(login, { email: bob.email, password: `guess number ${attempt}` })).status;
    }
    expect(status).toBe(429);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved('sesame_sign_ins_total', { method: 'password', outcome: 'locked' })).toBe(1);
    expect(moved('sesame_rate_limit_refusals_total', { limit: 'login-account' })).toBe(1);
    expect(moved('sesame_sign_ins_total', { method: 'password', outcome: 'failure' })).toBeGreaterThanOrEqual(5);
  });

  it('counts unknown paths as one route, "other"', async () => {
    const before = sample(await scrape(), 'sesame_http_requests_total', { method: 'GET', route: 'other', status: '404' });
    for (const path of ['/x1', '/y/2', '/z?code=abc']) expect((await get(path)).status).toBe(404);
    const after = await scrape();
    expect(sample(after, 'sesame_http_requests_total', { method: 'GET', route: 'other', status: '404' }) - before).toBe(3);
    expect(after).not.toMatch(/route="\/(x1|y\/2|z)/);
  });
});
