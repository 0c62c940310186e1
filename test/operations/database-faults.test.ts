// What people, apps and load balancers see while PostgreSQL is stopped or frozen (connections
// open, no answers), from outside: a throwaway cluster of the test's own, the real server process
// on it with short timeouts. Nothing hangs past a timeout, the process stays up, and everything
// works again when the database is back, without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresBinDir, startPostgresCluster } from '../support/postgres-cluster.ts';
import type { PostgresCluster } from '../support/postgres-cluster.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { parsed, runAdmin } from '../support/admin-cli.ts';
import { Browser } from '../support/browser.ts';

const RP = 'https://rp.example.test';

/** Polls until `check` passes (its last failure is the test's failure). */
async function eventually(check: () => Promise<void>, seconds = 20): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe.skipIf(!postgresBinDir())('when PostgreSQL is down or frozen', () => {
  let cluster: PostgresCluster;
  let server: ServerProcess;
  let batch: { client_id: string; client_secret: string };
  let web: { client_id: string };
  let signIn: { browser: Browser; url: string };

  /** Answers within `seconds` or fails: what hangs is what this file is about. */
  const get = (path: string, seconds = 10) => fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(seconds * 1000) });
  const token = (seconds = 10) =>
    fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${batch.client_id}:${batch.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(seconds * 1000),
    });
  const signInPage = () => signIn.browser.request(signIn.url, { signal: AbortSignal.timeout(10_000) });
  const authorize = () =>
    `/auth?${new URLSearchParams({ client_id: web.client_id, response_type: 'code', scope: 'openid', redirect_uri: `${RP}/cb`, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;

  const expectUnavailable = async () => {
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    const page = await signInPage();
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('Temporarily unavailable');
    const started = await new Browser(server.url).request(`${server.url}${authorize()}`, { signal: AbortSignal.timeout(10_000) });
    expect(started.status).toBe(503);
    expect(await started.text()).toContain('Temporarily unavailable');
    const answer = await token();
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await answer.json()).toEqual({ error: 'server_error', error_description: expect.stringContaining('temporarily unavailable') });
    expect(server.alive()).toBe(true);
  };

  const expectWorking = async () => {
    expect((await get('/readyz')).status).toBe(200);
    const answer = await token();
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
    const page = await signInPage();
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="password"');
  };

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    const url = await cluster.createDatabase('sesame');
    const env = { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT: '1', DATABASE_STATEMENT_TIMEOUT: '2' };
    server = await startServerProcess(env);
    const cwd = mkdtempSync(join(tmpdir(), 'sesame-faults-'));
    [batch, web] = await Promise.all([
      runAdmin(env, cwd, ['clients', 'add', '--name', 'Batch', '--grant', 'client_credentials', '--json']).then(parsed),
      runAdmin(env, cwd, ['clients', 'add', '--name', 'Wiki', '--redirect-uri', `${RP}/cb`, '--first-party', '--json']).then(parsed),
    ]);
    const browser = new Browser(server.url);
    const page = await browser.open(`${server.url}${authorize()}`);
    expect(page.status).toBe(200);
    signIn = { browser, url: page.url };
    await expectWorking();
  });

  afterAll(async () => {
    await server?.kill();
    cluster?.destroy();
  });

  it('answers 503 "temporarily unavailable" while it is stopped, and works again once it is back', async () => {
    cluster.stop();
    try {
      await expectUnavailable();
      // The background jobs meet the outage too (they poll every second).
      await eventually(async () => expect(server.logs.some((line) => line.includes('worker') && line.includes('database unavailable'))).toBe(true), 10);
    } finally {
      cluster.start();
    }
    await eventually(expectWorking);
    expect(server.logs.join('\n')).not.toContain('uncaught');
    // One cause, named by /readyz: warnings without stacks, not a trace per request and per job.
    const errors = server.logs.filter((line) => line.startsWith('{') && JSON.parse(line).level >= 50);
    expect(errors).toEqual([]);
  });

  it('does not hang while it is frozen, and works again once it thaws', async () => {
    cluster.freeze();
    try {
      // Generous deadlines: this is about answering at all, not about speed.
      await eventually(async () => expect((await get('/readyz', 5)).status).toBe(503), 10);
      const answer = await token(15);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({ error: 'server_error' });
      const page = await signInPage();
      expect(page.status).toBe(503);
      expect(server.alive()).toBe(true);
    } finally {
      cluster.thaw();
    }
    await eventually(expectWorking);
  });
});
