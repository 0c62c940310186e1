// Finding 4 of issue 8: password-reset requests took longer for existing accounts than for
// unknown addresses (an enumeration by timing). Now the answer goes out before the address is
// even looked up, for both: the lookup, the single-use link and the e-mail come after it. Proven
// by order, never by the clock: with the accounts table locked, both answers still arrive, and
// only then does the server's work wait on the lock; released, the link reaches the owner.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Browser, Page } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { comparableHeaders, expectNoSecretsInLogs, heading, masked, startHarness } from '../self-service/harness.ts';
import type { Harness } from '../self-service/harness.ts';

describe.each(STORES)('reset requests on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  /** The "forgot" form, opened in a browser of its own, and its answer to `email`. */
  const openForm = async () => {
    const browser = h.browser();
    const form = await browser.open(`${h.f.issuer}/account/forgot`);
    return { browser, ask: (email: string) => browser.submit(form, { email }) };
  };
  const cookiesOf = async (browser: Browser) => (await browser.jar.getCookies(h.f.issuer)).map((cookie) => `${cookie.key}=${cookie.value.length}`).sort();

  it('answers an existing account and an unknown address with the same page, status, headers and cookies', async () => {
    const account = await h.account({ label: 'known' });
    const unknown = account.email.replace('known', 'unknown');
    const known = await openForm();
    const none = await openForm();
    const before = [await cookiesOf(known.browser), await cookiesOf(none.browser)];
    const answers: Page[] = [await known.ask(account.email), await none.ask(unknown)];
    expect(answers.map((page) => page.status)).toEqual([200, 200]);
    expect(heading(answers[0]!)).toBe(heading(answers[1]!));
    expect(masked(answers[1]!, unknown)).toBe(masked(answers[0]!, account.email));
    expect(comparableHeaders(answers[1]!)).toEqual(comparableHeaders(answers[0]!));
    expect([await cookiesOf(known.browser), await cookiesOf(none.browser)]).toEqual(before);
    expect(await h.inbox(account.email, 'reset-password')).toHaveLength(1);
    expect(await h.inbox(unknown)).toEqual([]);
  });

  // PGlite has a single backend: a lock held by the test would hold every query of the server too.
  it.skipIf(kind === 'pglite')('answers before it looks the address up, issues the link or queues the e-mail, for an existing account as for an unknown address', async () => {
    const account = await h.account({ label: 'ordered' });
    const unknown = account.email.replace('ordered', 'unordered');
    const known = await openForm();
    const none = await openForm();

    const lock = new pg.Client({ connectionString: h.f.store.env.DATABASE_URL });
    await lock.connect();
    onTestFinished(() => lock.end());
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');

    // Before the fix, these answers waited for the lock (the test timed out here).
    const answers = [await known.ask(account.email), await none.ask(unknown)];
    expect(answers.map((page) => page.status)).toEqual([200, 200]);
    expect(masked(answers[1]!, unknown)).toBe(masked(answers[0]!, account.email));

    // Only now does the work of both requests reach the accounts table, and wait there.
    const waiting = async () =>
      (await lock.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'users' AND NOT l.granted`)).rows[0].n as number;
    while ((await waiting()) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const issued = await lock.query(`SELECT count(*)::int AS n FROM one_time_tokens WHERE user_id = $1`, [account.id]);
    const queued = await lock.query(`SELECT count(*)::int AS n FROM mail_messages WHERE recipient = $1`, [account.email]);
    expect({ issued: issued.rows[0].n, queued: queued.rows[0].n }).toEqual({ issued: 0, queued: 0 });

    await lock.query('COMMIT');
    expect((await h.latest(account.email, 'reset-password')).link).toContain('/account/reset?token=');
    expect(await h.inbox(unknown)).toEqual([]);
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
