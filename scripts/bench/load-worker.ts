// The benchmark's load generator, in a process of its own (forked by scripts/bench.ts) so that it
// shares nothing with the servers it measures nor with the parent that samples them. It runs one
// job at a time: autocannon for the protocol endpoints, browserless people for sign-ins through
// the pages, and argon2id verifications on every core for the limit sign-ins are held against.
import argon2 from 'argon2';
import autocannon from 'autocannon';
import { availableParallelism } from 'node:os';
import { TOTP, Secret } from 'otpauth';
import { Browser } from '../../test/support/browser.ts';
import type { Page } from '../../test/support/browser.ts';
import { beginSignIn, discover, redeem, signIn } from '../../test/support/rp.ts';
import type { Flow } from '../../test/support/rp.ts';
import type { Factors } from './factors.ts';
import type { LoadJob, LoadReply, LoadResult } from './messages.ts';
import { softPasskey } from './soft-authenticator.ts';

type Job<K extends LoadJob['kind']> = Extract<LoadJob, { kind: K }>;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : 0;
}

/** Runs autocannon, keeping the first failed answer to tell what went wrong. */
async function cannon(options: autocannon.Options, firstError: { text?: string }): Promise<LoadResult> {
  const result = await autocannon({ ...options, timeout: 30 });
  return {
    count: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    firstError: firstError.text ?? (result.errors ? `${result.errors} socket errors` : undefined),
  };
}

function recordFailure(firstError: { text?: string }) {
  return (status: number, body: string) => {
    if (status >= 300 && !firstError.text) firstError.text = `${status} ${body.slice(0, 300)}`;
  };
}

function fixed(job: Job<'fixed'>) {
  const firstError: { text?: string } = {};
  const { url, method, headers, body, connections, duration } = job;
  return cannon({ url, connections, duration, requests: [{ method, headers, body, onResponse: recordFailure(firstError) }] }, firstError);
}

function codes(job: Job<'codes'>) {
  const firstError: { text?: string } = {};
  const left = [...job.codes];
  const body = (code: string) => new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: job.redirectUri, code_verifier: job.codeVerifier }).toString();
  return cannon(
    {
      url: job.url,
      method: 'POST',
      headers: job.headers,
      connections: Math.min(job.connections, left.length),
      amount: left.length,
      // Each request takes the next code; a request resent after a reconnect gets an unknown one
      // (counted as an error) rather than a code twice.
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, body: body(left.pop() ?? 'no-code-left') }), onResponse: recordFailure(firstError) }],
    },
    firstError,
  );
}

function refresh(job: Job<'refresh'>) {
  const firstError: { text?: string } = {};
  const tokens = [...job.tokens];
  const onFailure = recordFailure(firstError);
  return cannon(
    {
      url: job.url,
      method: 'POST',
      headers: job.headers,
      connections: job.connections,
      duration: job.duration,
      // autocannon clears a request's context after each request, so the chain lives beside the
      // connection. A token is handed out once: a request built again before its answer came back
      // (a reconnect) sends a made-up token instead of replaying one, which would revoke the grant.
      setupClient(client) {
        const chain: { token?: string } = { token: tokens.pop() };
        client.setRequests([
          {
            method: 'POST',
            setupRequest(request) {
              const token = chain.token ?? `spent-${Math.random()}`;
              chain.token = undefined;
              return { ...request, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString() };
            },
            onResponse(status, body) {
              if (status === 200) chain.token = (JSON.parse(body) as { refresh_token: string }).refresh_token;
              else onFailure(status, body);
            },
          },
        ]);
      },
    },
    firstError,
  );
}

/** Runs `work` from `lanes` loops at once until the deadline, timing each call. */
async function lanes(count: number, duration: number, work: () => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + duration * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      try {
        if (!(await work())) return;
        latencies.push(performance.now() - begun);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message.slice(0, 300);
      }
    }
  };
  await Promise.all(Array.from({ length: count }, lane));
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, seconds: (performance.now() - started) / 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, firstError };
}

/** The consent page answered (a new person sees it), then where the browser stopped: the app. */
async function consented(browser: Browser, page: Page): Promise<string> {
  if (!page.stoppedAt && page.doc.querySelector('button[name="decision"]')) page = await browser.submit(page, {}, { button: { name: 'decision', value: 'allow' } });
  if (!page.stoppedAt) throw new Error(`sign-in did not return to the app; last page ${page.url} (${page.status}): ${page.body.slice(0, 300)}`);
  return page.stoppedAt;
}

/** Password, then the authenticator app's code for this time step, on the second-factor page. */
async function withTotp(browser: Browser, flow: Flow, email: string, password: string, secret: string): Promise<string> {
  const login = await browser.open(flow.url);
  const second = await browser.submit(login, { email, password });
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
  return consented(browser, await browser.submit(second, { code }, { selector: 'form[action$="/second-factor/totp"]' }));
}

/** No password: the login page's passkey form, as passkeys.js drives it (the options in the form, then the assertion). */
async function withPasskey(browser: Browser, flow: Flow, key: { id: string; privateKey: string; userHandle: string }): Promise<string> {
  const login = await browser.open(flow.url);
  const form = login.doc.querySelector('form[data-passkey="sign-in"]');
  if (!form) throw new Error(`no passkey form on ${login.url}`);
  const options = JSON.parse(form.getAttribute('data-options') ?? '') as { challenge: string; rpId?: string };
  const response = softPasskey(key, new URL(browser.origin).hostname).assert(options, browser.origin);
  return consented(browser, await browser.submit(login, { response: JSON.stringify(response) }, { selector: 'form[data-passkey="sign-in"]' }));
}

function signInOnce(browser: Browser, flow: Flow, email: string, job: Job<'sign-ins'>, factors: Factors | undefined): Promise<string> {
  if (factors?.kind === 'totp') return withTotp(browser, flow, email, job.password, factors.secrets[email]!);
  if (factors?.kind === 'passkey') return withPasskey(browser, flow, factors.keys[email]!);
  return signIn(browser, flow, email, job.password);
}

async function signIns(job: Job<'sign-ins'>) {
  const rp = await discover(job.issuer, job.clientId, job.clientSecret);
  const emails = [...job.emails];
  // A new person each time, so that every sign-in shows the consent page.
  return lanes(job.people, job.duration, async () => {
    const email = emails.pop();
    if (!email) return false;
    const flow = await beginSignIn(rp, job.redirectUri);
    await redeem(rp, flow, await signInOnce(new Browser(job.issuer), flow, email, job, job.factors));
    return true;
  });
}

function argon2Limit(job: Job<'argon2'>) {
  // Twice as many verifications in flight as cores keeps libuv's threads (four) all busy.
  return lanes(availableParallelism() * 2, job.duration, async () => {
    if (!(await argon2.verify(job.hash, job.password))) throw new Error('argon2 verification failed');
    return true;
  });
}

function run(job: LoadJob): Promise<LoadResult> {
  switch (job.kind) {
    case 'fixed':
      return fixed(job);
    case 'codes':
      return codes(job);
    case 'refresh':
      return refresh(job);
    case 'sign-ins':
      return signIns(job);
    case 'argon2':
      return argon2Limit(job);
  }
}

process.on('message', ({ id, job }: { id: number; job: LoadJob }) => {
  run(job).then(
    (result) => process.send!({ id, result } satisfies LoadReply),
    (error: Error) => process.send!({ id, error: error.message } satisfies LoadReply),
  );
});
process.send!({ ready: true });
