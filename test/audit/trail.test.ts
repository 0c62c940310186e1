// The audit trail (issue 8, part 5), read back as an admin reads it: `admin audit list --json`
// through the real CLI, after real sign-ins, registrations, resets, consents, refusals, sign-outs
// and CLI changes. Every row says who, from which address and browser, in which request; no
// row holds a password, token or link; old rows go with the cleanup; and a trail that cannot be
// written never stops anyone from signing in.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsed, runAdmin } from '../support/admin-cli.ts';
import { beginSignIn, oidc, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { RP, expectNoSecretsInLogs, heading, openSignIn, register, signInForTokens, startHarness } from '../self-service/harness.ts';
import type { Harness } from '../self-service/harness.ts';

interface Row {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  user_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

const RETENTION_DAYS = 30;

describe.each(STORES)('the audit trail on %s', (kind) => {
  let h: Harness;
  let cwd: string;
  let browsers = 0;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true', AUDIT_RETENTION: String(RETENTION_DAYS * 86400) });
    cwd = mkdtempSync(join(tmpdir(), 'sesame-audit-'));
  });
  afterAll(() => h?.stop());

  /** A browser with an address and a user agent of its own, to find its rows by. */
  const browser = () => {
    const agent = `AuditTest/${++browsers} (${kind})`;
    const b = h.browser({ 'user-agent': agent });
    return { browser: b, agent, ip: h.addressOf(b) };
  };

  /** `admin audit list --json …`, once what the server is writing has been written. */
  const list = async (...args: string[]): Promise<Row[]> => {
    await h.f.server.sesame.audit.settled();
    return parsed<Row[]>(await runAdmin(h.f.store.env, cwd, ['audit', 'list', '--json', '--limit', '1000', ...args]));
  };

  /** The one row the request of this browser left, of this action. */
  const rowOf = (rows: Row[], action: string, agent: string) => {
    const found = rows.filter((row) => row.action === action && row.user_agent === agent);
    expect(found, `${action} by ${agent}: ${JSON.stringify(rows.slice(0, 5))}`).toHaveLength(1);
    return found[0]!;
  };

  /** The request log line of `requestId` (the logs run at debug level in tests). */
  const requestLine = (requestId: string) =>
    h.f.server.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request' && line.requestId === requestId);

  it('records a password sign-in that fails, against the address typed, with the account only when there is one, and the one that succeeds', async () => {
    const account = await h.account({ label: 'signer' });
    const nobody = browser();
    const guesser = browser();
    const owner = browser();
    const unknownTyped = '  Nobody-Here@Example.COM ';
    h.keep('a wrong password for nobody', 'a wrong password for the owner');

    expect((await nobody.browser.submit((await openSignIn(h, nobody.browser)).page, { email: unknownTyped, password: 'a wrong password for nobody' })).status).toBe(401);
    expect((await guesser.browser.submit((await openSignIn(h, guesser.browser)).page, { email: account.email.toUpperCase(), password: 'a wrong password for the owner' })).status).toBe(401);
    await signInForTokens(h, owner.browser, account.email, account.password);

    const rows = await list('--type', 'sign-in');
    const unknown = rowOf(rows, 'sign-in.failed', nobody.agent);
    expect(unknown).toMatchObject({ actor: 'anonymous', target: 'nobody-here@example.com', user_id: null, client_id: h.f.firstParty.id, ip: nobody.ip, details: { method: 'password', reason: 'unknown-account' } });
    const wrong = rowOf(rows, 'sign-in.failed', guesser.agent);
    expect(wrong).toMatchObject({ actor: 'anonymous', target: account.email, user_id: account.id, client_id: h.f.firstParty.id, ip: guesser.ip, details: { method: 'password', reason: 'wrong-password' } });
    const success = rowOf(rows, 'sign-in.succeeded', owner.agent);
    expect(success).toMatchObject({ actor: `user:${account.id}`, target: account.email, user_id: account.id, client_id: h.f.firstParty.id, ip: owner.ip, details: { method: 'password' } });

    // The request id is the one the server logged for that very request (the form's POST).
    for (const [row, status] of [[unknown, 401], [wrong, 401], [success, 303]] as const) {
      expect(row.request_id).toMatch(/^[0-9a-f]{12}$/);
      expect(requestLine(row.request_id!)).toMatchObject({ method: 'POST', status });
      expect(requestLine(row.request_id!)!.route).toBe('/interaction/:uid/login');
    }
    // Newest first.
    expect(rows.indexOf(success)).toBeLessThan(rows.indexOf(wrong));
    expect(rows.indexOf(wrong)).toBeLessThan(rows.indexOf(unknown));
  });

  it('records a registration, a second registration of the same address, and the verification of the address', async () => {
    const email = 'Newcomer@Example.com';
    const first = browser();
    const again = browser();
    expect(heading(await register(h, first.browser, { email, password: 'violet canyon 42 meadow' }))).toBe('Check your inbox');
    expect(heading(await register(h, again.browser, { email, password: 'another 42 meadow canyon' }))).toBe('Check your inbox');
    const { link } = await h.latest(email, 'verify-email');
    const verifier = browser();
    await verifier.browser.submit(await verifier.browser.open(link!), {});

    const id = (await h.f.server.sesame.users.findByEmail(email))!.id;
    const rows = await list('--user', email);
    expect(rowOf(rows, 'registration.created', first.agent)).toMatchObject({ actor: 'anonymous', target: 'newcomer@example.com', user_id: id, ip: first.ip, details: { method: 'password' } });
    expect(rowOf(rows, 'registration.refused', again.agent)).toMatchObject({ target: 'newcomer@example.com', user_id: id, details: { reason: 'address-taken' } });
    // From the e-mailed link, in any browser: no app, the account's own doing.
    expect(rowOf(rows, 'email.verified', verifier.agent)).toMatchObject({ actor: `user:${id}`, user_id: id, client_id: null, ip: verifier.ip });
  });

  it('records reset requests, for an account or not, and the reset itself; and a refusal by the rate limit against the address', async () => {
    const account = await h.account({ label: 'forgetful' });
    const asker = browser();
    const ask = async (who: typeof asker, email: string) => who.browser.submit(await who.browser.open(`${h.f.issuer}/account/forgot`), { email });
    await ask(asker, account.email);
    const { link } = await h.latest(account.email, 'reset-password');
    const resetter = browser();
    const chosen = 'saffron glacier 77 orbit';
    h.keep(chosen);
    expect(heading(await resetter.browser.submit(await resetter.browser.open(link!), { password: chosen }))).toBe('Your password was changed');

    const stranger = browser();
    const unknown = 'no-such-person@example.com';
    let refused;
    for (let i = 0; i < 4 && !refused; i++) {
      const page = await ask(stranger, unknown);
      if (page.status === 429) refused = page;
    }
    expect(refused?.status).toBe(429);

    const mine = await list('--user', account.email);
    expect(rowOf(mine, 'password.reset-requested', asker.agent)).toMatchObject({ actor: 'anonymous', target: account.email, user_id: account.id, details: { sent: true } });
    expect(rowOf(mine, 'password.reset', resetter.agent)).toMatchObject({ actor: `user:${account.id}`, target: account.email, user_id: account.id, ip: resetter.ip });
    const theirs = await list('--user', unknown);
    expect(theirs.filter((row) => row.action === 'password.reset-requested').every((row) => row.user_id === null && (row.details as { sent: boolean }).sent === false)).toBe(true);
    expect(rowOf(theirs, 'rate-limit.refused', stranger.agent)).toMatchObject({ actor: 'anonymous', target: unknown, ip: stranger.ip, details: { route: '/account/forgot', method: 'POST' } });
  });

  it('records a refusal of failed client authentications at the token endpoint, against the client, without its secret', async () => {
    const agent = `AuditTest/token (${kind})`;
    const guess = (i: number) =>
      fetch(`${h.f.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${h.f.batch.id}:wrong-secret-guess-${i}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': agent,
          'x-forwarded-for': `198.51.100.${i}`,
        },
        body: 'grant_type=client_credentials',
      });
    let status = 0;
    for (let i = 0; i < 25 && status !== 429; i++) status = (await guess(i)).status;
    expect(status).toBe(429);
    h.keep(...Array.from({ length: 25 }, (_, i) => `wrong-secret-guess-${i}`), h.f.batch.secret);

    const row = rowOf(await list('--client', h.f.batch.id, '--type', 'rate-limit'), 'rate-limit.refused', agent);
    expect(row).toMatchObject({ actor: 'anonymous', target: h.f.batch.id, client_id: h.f.batch.id, details: { route: '/token', method: 'POST' } });
    expect(row.ip).toMatch(/^198\.51\.100\.\d+$/);
  });

  it('records consent given on the consent page and withdrawn with the CLI, by the admin', async () => {
    const account = await h.account({ label: 'consenting' });
    const person = browser();
    await signIn(person.browser, await beginSignIn(h.web, `${RP}/cb`), account.email, account.password, 'allow');
    const forgot = await runAdmin(h.f.store.env, cwd, ['users', 'forget-consent', account.email, '--client', h.f.web.id]);
    expect(forgot.code).toBe(0);

    const rows = await list('--client', h.f.web.id, '--type', 'consent');
    const given = rowOf(rows, 'consent.given', person.agent);
    expect(given).toMatchObject({ actor: `user:${account.id}`, target: h.f.web.id, user_id: account.id, client_id: h.f.web.id, ip: person.ip });
    expect((given.details as { scopes: string[] }).scopes).toEqual(expect.arrayContaining(['email', 'openid', 'profile']));
    const withdrawn = rows.find((row) => row.action === 'consent.withdrawn' && row.user_id === account.id);
    expect(withdrawn).toMatchObject({ target: h.f.web.id, client_id: h.f.web.id, ip: null, user_agent: null, request_id: null });
    expect(withdrawn!.actor).toMatch(/^admin:.+@.+$/);
    expect(rows.indexOf(withdrawn!)).toBeLessThan(rows.indexOf(given));
  });

  it('records the end of a session on sign-out, and a change made with the CLI, each by whom it was', async () => {
    const account = await h.account({ label: 'leaving' });
    const person = browser();
    const tokens = await signInForTokens(h, person.browser, account.email, account.password);
    const confirm = await person.browser.open(oidc.buildEndSessionUrl(h.intranet, { id_token_hint: tokens.id_token! }).href);
    await person.browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
    // A Google sign-in linked earlier (as a first Google sign-in or `users import` would), unlinked by the admin.
    await h.prisma.federatedIdentity.create({ data: { provider: 'google', subject: 'google-subject-of-leaving', userId: account.id, email: account.email } });
    expect((await runAdmin(h.f.store.env, cwd, ['users', 'unlink', account.email, '--provider', 'google'])).code).toBe(0);
    expect((await runAdmin(h.f.store.env, cwd, ['users', 'unlink', account.email, '--provider', 'google'])).code).toBe(1);
    expect((await runAdmin(h.f.store.env, cwd, ['users', 'disable', account.id])).code).toBe(0);

    const rows = await list('--user', account.id);
    expect(rowOf(rows, 'session.ended', person.agent)).toMatchObject({ actor: `user:${account.id}`, user_id: account.id, client_id: h.f.firstParty.id, ip: person.ip, details: { reason: 'logout' } });
    const unlinked = rows.find((row) => row.action === 'identity.unlinked');
    expect(unlinked).toMatchObject({ target: account.email, user_id: account.id, details: { provider: 'google', subject: 'google-subject-of-leaving' } });
    expect(unlinked!.actor).toMatch(/^admin:.+@.+$/);
    const disabled = rows.find((row) => row.action === 'user.disable');
    expect(disabled).toMatchObject({ target: account.id, user_id: account.id, ip: null });
    expect(disabled!.actor).toMatch(/^admin:.+@.+$/);
    expect(rows[0]).toEqual(disabled);
  });

  it('lists for people too: a table with the newest event first, and --since', async () => {
    const run = await runAdmin(h.f.store.env, cwd, ['audit', 'list', '--type', 'user', '--limit', '1']);
    expect(run.code).toBe(0);
    const [header, rule, first, ...rest] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^TIME\s+ACTION\s+ACTOR\s+TARGET\s+USER\s+CLIENT\s+IP\s+REQUEST\s+DETAILS$/);
    expect(rule).toMatch(/^-+( +-+)+$/);
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+user\.disable\s+admin:/);
    expect(rest).toEqual([]);
    expect(await list('--since', '0s', '--type', 'sign-in')).toEqual([]);
    const usage = await runAdmin(h.f.store.env, cwd, ['audit', 'list', '--since', 'yesterday']);
    expect(usage.code).toBe(2);
  });

  it('never holds a secret: no password typed, token issued or link sent appears in any row', async () => {
    const rows = await list();
    expect(rows.length).toBeGreaterThan(15);
    const text = JSON.stringify(rows);
    expect(h.secrets.size).toBeGreaterThan(10);
    for (const secret of h.secrets) expect(text.includes(secret), `a row holds ${secret.slice(0, 6)}…`).toBe(false);
    expect(text).not.toMatch(/token=|\/account\/(reset|verify|link)\?/);
  });

  it('deletes, at the cleanup, the events older than AUDIT_RETENTION and only those', async () => {
    const rows = await list();
    const [old, recent] = [rows.at(-1)!, rows.at(-2)!];
    await h.prisma.$executeRawUnsafe(`UPDATE audit_events SET at = now() - interval '${RETENTION_DAYS + 1} days' WHERE id = ${BigInt(old.id)}`);
    await h.prisma.$executeRawUnsafe(`UPDATE audit_events SET at = now() - interval '${RETENTION_DAYS - 1} days' WHERE id = ${BigInt(recent.id)}`);
    await h.f.server.sesame.cleanup();
    const ids = (await list()).map((row) => row.id);
    expect(ids).not.toContain(old.id);
    expect(ids).toContain(recent.id);
    expect(ids).toHaveLength(rows.length - 1);
  });

  it('never fails a sign-in when the trail cannot be written: the failure is logged, and writing resumes', async () => {
    const account = await h.account({ label: 'unrecorded' });
    await h.f.server.sesame.audit.settled();
    const before = h.f.server.logs.length;
    await h.prisma.$executeRawUnsafe('ALTER TABLE audit_events RENAME TO audit_events_away');
    let tokens;
    try {
      const person = browser();
      tokens = await signInForTokens(h, person.browser, account.email, account.password);
      await h.f.server.sesame.audit.settled();
    } finally {
      await h.prisma.$executeRawUnsafe('ALTER TABLE audit_events_away RENAME TO audit_events');
    }
    expect(tokens.claims()!.sub).toBe(account.id);
    const failures = h.f.server.logs.slice(before).map((line) => JSON.parse(line)).filter((line) => line.msg === 'could not record an audit event');
    expect(failures.map((line) => line.action)).toContain('sign-in.succeeded');
    expect(failures.every((line) => /^[0-9a-f]{12}$/.test(line.requestId))).toBe(true);

    const later = browser();
    await signInForTokens(h, later.browser, account.email, account.password);
    expect(rowOf(await list('--user', account.id), 'sign-in.succeeded', later.agent).user_id).toBe(account.id);
  });

  it('keeps secrets out of the logs too', () => expectNoSecretsInLogs(h));
});
