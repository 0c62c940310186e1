// SIGTERM as a load balancer sees it, on the real server process: /readyz turns 503 at once while
// requests are still served for the drain period; then keep-alive connections that keep sending
// are answered with Connection: close, connections are refused, the request in flight finishes
// and the process exits 0. No request that reached the server is reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import type { Agent, IncomingHttpHeaders } from 'node:http';
import { Agent as HttpAgent } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORES, createTestStore } from '../support/stores.ts';
import type { StoreKind, TestStore } from '../support/stores.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { parsed, runAdmin } from '../support/admin-cli.ts';

interface Outcome {
  status?: number;
  headers?: IncomingHttpHeaders;
  /** The error code when there was no answer (ECONNREFUSED, ECONNRESET…). */
  error?: string;
  /** When the answer (or the error) came. */
  at: number;
}

interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request with node:http, the way a proxy or an app's HTTP client makes it. */
function send(base: string, agent: Agent | false, call: Call): { outcome: Promise<Outcome>; connected: Promise<void> } {
  let connected!: () => void;
  const connection = new Promise<void>((resolve) => (connected = resolve));
  const outcome = new Promise<Outcome>((resolve) => {
    const req = request(`${base}${call.path}`, { method: call.method ?? 'GET', agent, headers: { ...call.headers, ...(call.body ? { 'content-length': Buffer.byteLength(call.body) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, at: performance.now() }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, at: performance.now() }));
    });
    req.on('socket', (socket) => (socket.connecting ? socket.once('connect', connected) : connected()));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, at: performance.now() }));
    req.end(call.body);
  });
  return { outcome, connected: connection };
}

describe.each(STORES)('SIGTERM on the %s store', (kind: StoreKind) => {
  let store: TestStore;
  let server: ServerProcess;
  let batch: { client_id: string; client_secret: string };

  beforeAll(async () => {
    store = await createTestStore(kind);
    // Before the server starts: the embedded store has one owner at a time.
    batch = parsed(await runAdmin(store.env, mkdtempSync(join(tmpdir(), 'sesame-shutdown-')), ['clients', 'add', '--name', 'Batch', '--grant', 'client_credentials', '--json']));
    server = await startServerProcess({ ...store.env, SHUTDOWN_DRAIN_SECONDS: '2', SHUTDOWN_TIMEOUT: '20' });
  });

  afterAll(async () => {
    await server?.kill();
    await store?.dispose();
  });

  it('drains, answers every request that reached it, and exits 0', async () => {
    const tokenBody = 'grant_type=client_credentials';
    const tokenCall: Call = {
      method: 'POST',
      path: '/token',
      headers: { authorization: `Basic ${Buffer.from(`${batch.client_id}:${batch.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenBody,
    };
    const discovery: Call = { path: '/.well-known/openid-configuration' };

    // (a) Keep-alive clients (a load balancer's pool) that keep sending, until they are refused.
    const pool = new HttpAgent({ keepAlive: true, maxSockets: 4 });
    const loop = async () => {
      const outcomes: Outcome[] = [];
      for (let i = 0; ; i++) {
        const outcome = await send(server.url, pool, i % 2 ? tokenCall : discovery).outcome;
        outcomes.push(outcome);
        if (outcome.error) return outcomes;
      }
    };
    const readiness = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const pollReadiness = async () => {
      const outcomes: Outcome[] = [];
      for (;;) {
        const outcome = await send(server.url, readiness, { path: '/readyz' }).outcome;
        outcomes.push(outcome);
        if (outcome.error) return outcomes;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    const readyz = pollReadiness();

    // (c) A slow client: headers and half the body now, the rest once the server stopped accepting.
    const slow = request(`${server.url}/token`, { method: 'POST', agent: false, headers: { ...tokenCall.headers, 'content-length': Buffer.byteLength(tokenBody) } });
    const slowOutcome = new Promise<Outcome>((resolve) => {
      slow.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, at: performance.now() }));
      });
      slow.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, at: performance.now() }));
    });
    slow.write(tokenBody.slice(0, 10));

    // (b) One request per connection, connected just before the signal and sent right after it.
    const before = Array.from({ length: 16 }, () => send(server.url, false, discovery));
    await Promise.all(before.map(({ connected }) => connected));
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    const after = Array.from({ length: 16 }, () => send(server.url, false, discovery));

    const loopOutcomes = await Promise.all(loops);
    slow.end(tokenBody.slice(10));
    const [slowAnswer, readyzOutcomes, beforeOutcomes, afterOutcomes, exit] = await Promise.all([
      slowOutcome,
      readyz,
      Promise.all(before.map(({ outcome }) => outcome)),
      Promise.all(after.map(({ outcome }) => outcome)),
      server.exited,
    ]);
    pool.destroy();
    readiness.destroy();

    // Nothing that reached the server was reset: the only failure is a refused connection, last.
    for (const outcomes of [...loopOutcomes, readyzOutcomes]) {
      expect(outcomes.at(-1)!.error).toBe('ECONNREFUSED');
      expect(outcomes.slice(0, -1).filter((outcome) => outcome.error)).toEqual([]);
    }
    for (const outcomes of loopOutcomes) {
      expect(outcomes.slice(0, -1).every((outcome) => outcome.status === 200)).toBe(true);
      // The last answer on a kept-alive connection told the client to close it.
      expect(outcomes.at(-2)!.headers!.connection).toBe('close');
    }
    const seen = (outcome: Outcome) => `${outcome.status ?? outcome.error} at ${Math.round(outcome.at - signalled)} ms`;
    expect(beforeOutcomes.filter((outcome) => outcome.status !== 200).map(seen)).toEqual([]);
    expect(afterOutcomes.filter((outcome) => outcome.status !== 200 && outcome.error !== 'ECONNREFUSED').map(seen)).toEqual([]);

    // Not ready from the signal on, while everything else was still served.
    const firstNotReady = readyzOutcomes.find((outcome) => outcome.status === 503 && outcome.at > signalled);
    expect(firstNotReady).toBeDefined();
    expect(readyzOutcomes.filter((outcome) => outcome.at > firstNotReady!.at).every((outcome) => outcome.status === 503 || outcome.error)).toBe(true);
    expect(loopOutcomes.flat().some((outcome) => outcome.status === 200 && outcome.at > firstNotReady!.at)).toBe(true);

    // The slow request finished, on a connection the server then closed.
    expect(slowAnswer.status).toBe(200);
    expect(slowAnswer.headers!.connection).toBe('close');

    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.logs.join('\n')).toContain('shut down cleanly');
  });

  // On one store: the sequence is the same on both.
  it.runIf(kind === STORES.at(-1))('gives up after SHUTDOWN_TIMEOUT, says what was left open, and exits 1', async () => {
    await server.kill();
    server = await startServerProcess({ ...store.env, SHUTDOWN_DRAIN_SECONDS: '0', SHUTDOWN_TIMEOUT: '2' });
    // A request whose body never finishes arriving.
    const stuck = request(`${server.url}/token`, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 100 } });
    stuck.on('error', () => {});
    await new Promise<void>((resolve) => stuck.write('grant_type=', () => resolve()));
    // Answered after the server read what was written before it.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 1, signal: null });
    const lines = server.logs.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const gaveUp = lines.find((line) => String(line.msg).startsWith('shutdown did not finish'));
    expect(gaveUp).toMatchObject({ step: 'closing connections and stopping jobs', connections: 1, requests: 1 });
    stuck.destroy();
  });
});
