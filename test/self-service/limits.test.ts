// Abuse limits (issue 3; checklist 41–43): failed sign-ins slow an account down, known or not;
// per-address counters cannot be dodged with X-Forwarded-For; registration, reset and resend
// requests run out, with the "too many attempts" page and a Retry-After header; and however many
// reset requests are made, an inbox gets at most three links an hour.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from '../support/browser.ts';
import { PASSWORD } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import { csrfOf, expectNoSecretsInLogs, heading, masked, openSignIn, rawPost, register, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const TOO_MANY = 'Too many attempts';
/** The fixture's own account, as she types her address. */
const ALICE = 'alice@example.com';

/** The login form of a new sign-in in `browser`, and a way to send it again and again. */
async function loginForm(h: Harness, browser: Browser) {
  const { page } = await openSignIn(h, browser);
  const action = new URL(page.doc.querySelector('form')!.getAttribute('action')!, page.url).href;
  const csrf = csrfOf(page);
  return (email: string, password: string, headers: Record<string, string> = {}) => {
    h.keep(password);
    return rawPost(browser, action, { csrf, email, password }, headers);
  };
}

function expectTooMany(page: Page, minSeconds: number, maxSeconds: number) {
  expect(page.status).toBe(429);
  expect(heading(page)).toBe(TOO_MANY);
  const retryAfter = Number(page.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(minSeconds);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  const minutes = Math.ceil(retryAfter / 60);
  expect(page.body).toContain(`please wait ${minutes === 1 ? '1 minute' : `${minutes} minutes`} before`);
}

describe.each(STORES)('limits behind a trusted proxy on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  it('locks an account for 30 minutes after five failed sign-ins: the sixth attempt gets 429 with Retry-After, even with the right password, from any browser that never signed in to it', async () => {
    const account = await h.account({ label: 'guessed' });
    const attempt = await loginForm(h, h.browser());
    for (let i = 1; i <= 5; i++) expect((await attempt(account.email, `wrong guess number ${i}`)).status).toBe(401);
    expectTooMany(await attempt(account.email, account.password), 29 * 60, 30 * 60);
    // Another browser on another address waits too: the count belongs to the account (a browser
    // that signed in to it before does not: test/security/owner-lockout.test.ts).
    const elsewhere = await loginForm(h, h.browser());
    expectTooMany(await elsewhere(account.email.toUpperCase(), account.password), 29 * 60, 30 * 60);
  });

  it('cannot be outrun by concurrent guesses: of 30 simultaneous wrong passwords for one account, at most five are checked', async () => {
    const account = await h.account({ label: 'raced' });
    const attempt = await loginForm(h, h.browser());
    const pages = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(account.email, `concurrent guess ${i}`)));
    const statuses = pages.map((page) => page.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(25);
  });

  it('cannot be outrun by concurrent guesses from one address: of 40 simultaneous failures, at most 30 are checked', async () => {
    const attempt = await loginForm(h, h.browser());
    const from = { 'x-forwarded-for': '192.0.2.77' };
    const pages = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(`swarm-${i}@example.com`, 'not the password', from)));
    const statuses = pages.map((page) => page.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(30);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(10);
  });

  it('slows down an address without an account exactly like one with an account', async () => {
    const account = await h.account({ label: 'real' });
    const unknown = account.email.replace('real', 'fake');
    const known = await loginForm(h, h.browser());
    const none = await loginForm(h, h.browser());
    for (let i = 1; i <= 6; i++) {
      const a = await known(account.email, `wrong guess number ${i}`);
      const b = await none(unknown, `wrong guess number ${i}`);
      expect(b.status, `attempt ${i}`).toBe(a.status);
      // The same wait, give or take the second that passed between the two requests.
      expect(Math.abs(Number(b.headers.get('retry-after')) - Number(a.headers.get('retry-after'))), `attempt ${i}`).toBeLessThanOrEqual(1);
      expect(masked(b, unknown).replace(/wait \d+ minute/, ''), `attempt ${i}`).toBe(masked(a, account.email).replace(/wait \d+ minute/, ''));
    }
    expect(heading(await none(unknown, 'wrong guess number 7'))).toBe(TOO_MANY);
  });

  it('counts only the rightmost X-Forwarded-For address, the one the proxy added', async () => {
    const attempt = await loginForm(h, h.browser());
    // 30 failed sign-ins, each on its own address (no account slow-down), each claiming another
    // client address in front of the proxy's entry.
    for (let i = 1; i <= 30; i++) {
      const page = await attempt(`stuffed-${i}@example.com`, 'not the password', { 'x-forwarded-for': `198.51.100.${i}, 10.250.0.1` });
      expect(page.status, `attempt ${i}`).toBe(401);
    }
    expectTooMany(await attempt(ALICE, PASSWORD, { 'x-forwarded-for': '203.0.113.9, 10.250.0.1' }), 1, 15 * 60);
    // The same address written on the left, by the client, counts for nothing.
    expect((await attempt('stuffed-31@example.com', 'not the password', { 'x-forwarded-for': '10.250.0.1, 10.250.0.2' })).status).toBe(401);
  });

  it('counts an IPv6 client by its /64, so a fresh address in the same network does not start afresh', async () => {
    const attempt = await loginForm(h, h.browser());
    for (let i = 1; i <= 30; i++) {
      const page = await attempt(`hopping-${i}@example.com`, 'not the password', { 'x-forwarded-for': `2001:db8:77:1:${i.toString(16)}::1` });
      expect(page.status, `attempt ${i}`).toBe(401);
    }
    expectTooMany(await attempt(ALICE, PASSWORD, { 'x-forwarded-for': '2001:db8:77:1:ffff:ffff:ffff:fffe' }), 1, 15 * 60);
    // The neighbouring network is someone else.
    expect((await attempt('hopping-31@example.com', 'not the password', { 'x-forwarded-for': '2001:db8:77:2::1' })).status).toBe(401);
  });

  it('allows five registrations an hour from one address, then shows "too many attempts" with Retry-After', async () => {
    const browser = h.browser();
    for (let i = 1; i <= 5; i++) {
      expect((await register(h, browser, { email: `burst-${i}@example.com`, password: `granite heron ${i} willow` })).status).toBe(200);
    }
    expectTooMany(await register(h, browser, { email: 'burst-6@example.com', password: 'granite heron 6 willow' }), 3000, 3600);
    expect(await h.inbox('burst-6@example.com')).toEqual([]);
    expect(await h.prisma.user.count({ where: { emailKey: 'burst-6@example.com' } })).toBe(0);
  });

  it('sends at most three "already registered" e-mails an hour to one account, however many addresses register it, and answers a new address the same', async () => {
    const account = await h.account({ label: 'registered' });
    const fresh = account.email.replace('registered', 'registerer');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const known = await register(h, h.browser(), { email: i % 2 ? account.email.toUpperCase() : account.email, password: `granite heron ${i} willow` });
      const unknown = await register(h, h.browser(), { email: fresh, password: `granite heron ${i} willow` });
      expect(unknown.status).toBe(known.status);
      statuses.push(known.status);
      if (known.status === 429) expectTooMany(known, 3000, 3600);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    expect(await h.inbox(account.email)).toHaveLength(3);
    expect((await h.inbox(fresh)).map((mail) => mail.kind)).toEqual(['verify-email', 'already-registered', 'already-registered']);
  });

  it('sends at most three reset links an hour to one account, however many addresses ask, and answers an unknown address the same', async () => {
    const account = await h.account({ label: 'flooded' });
    const unknown = account.email.replace('flooded', 'floated');
    const ask = async (email: string) => {
      const browser = h.browser();
      return browser.submit(await browser.open(`${h.f.issuer}/account/forgot`), { email });
    };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      // Letter case does not make it another account.
      const known = await ask(i % 2 ? account.email.toUpperCase() : account.email);
      const none = await ask(unknown);
      expect(none.status).toBe(known.status);
      statuses.push(known.status);
      if (known.status === 429) expectTooMany(known, 3000, 3600);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    expect(await h.inbox(account.email, 'reset-password')).toHaveLength(3);
  });

  it('allows ten reset requests an hour from one address, then shows "too many attempts" with Retry-After', async () => {
    const browser = h.browser();
    const form = await browser.open(`${h.f.issuer}/account/forgot`);
    for (let i = 1; i <= 10; i++) expect((await browser.submit(form, { email: `spray-${i}@example.com` })).status).toBe(200);
    expectTooMany(await browser.submit(form, { email: ALICE }), 3000, 3600);
    expect(await h.inbox(ALICE, 'reset-password')).toEqual([]);
  });

  it('sends the confirmation link again at most three times an hour, then shows "too many attempts" with Retry-After', async () => {
    const browser = h.browser();
    const email = 'resend@example.com';
    const password = 'saffron beetle 11 canyon';
    await register(h, browser, { email, password });
    const { page } = await openSignIn(h, browser);
    let step = await browser.submit(page, { email, password });
    expect(heading(step)).toBe('Confirm your e-mail address');
    for (let i = 1; i <= 3; i++) {
      step = await browser.submit(step, {}, { button: { name: 'action', value: 'resend' } });
      expect(step.status, `resend ${i}`).toBe(200);
    }
    expectTooMany(await browser.submit(step, {}, { button: { name: 'action', value: 'resend' } }), 3000, 3600);
    // The registration's link and three more, no fourth.
    expect(await h.inbox(email, 'verify-email')).toHaveLength(4);
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});

describe.each(STORES)('limits without a trusted proxy on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'false' });
  });
  afterAll(() => h?.stop());

  it('keeps counting failed sign-ins per address however X-Forwarded-For varies', async () => {
    const attempt = await loginForm(h, h.browser());
    for (let i = 1; i <= 30; i++) {
      const page = await attempt(`sprayed-${i}@example.com`, 'not the password', { 'x-forwarded-for': `198.51.100.${i}` });
      expect(page.status, `attempt ${i}`).toBe(401);
    }
    expectTooMany(await attempt(ALICE, PASSWORD, { 'x-forwarded-for': '203.0.113.77' }), 1, 15 * 60);
  });

  it('writes no password, link or token to the logs', () => expectNoSecretsInLogs(h));
});
