// Finding 1 of issue 8: anyone could keep an owner out of their account. Five wrong passwords
// from anywhere made even the owner's right password wait, and one more guess per wait kept it
// so. Now a browser that signed in to the account before (a device cookie, as OWASP describes)
// is never held back by the account's slow-down, only by its address's limit and by a budget of
// its own; unknown browsers still wait, for a lock counted from its start that nothing extends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { expectNoSecretsInLogs, heading, openSignIn, startHarness } from '../self-service/harness.ts';
import type { Account, Harness } from '../self-service/harness.ts';

describe.each(STORES)('owner lockout on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  /**
   * What the sign-in page makes of these credentials, in a new sign-in that asks for the password
   * even where the browser still has a session (prompt=login): "wrong", "too many", "signed in".
   */
  const attempt = async (browser: Browser, email: string, password: string) => {
    h.keep(password);
    const { page } = await openSignIn(h, browser, { prompt: 'login' });
    const next = await browser.submit(page, { email, password });
    if (next.status === 401) return 'wrong';
    if (next.status === 429) return 'too many';
    return next.stoppedAt ? 'signed in' : `${next.status} ${heading(next)}`;
  };

  /** Wrong passwords for `account`, each from a browser of its own on an address of its own. */
  const guessFromElsewhere = async (account: Account, count: number) => {
    const outcomes: string[] = [];
    for (let i = 1; i <= count; i++) outcomes.push(await attempt(h.browser(), account.email, `wrong guess number ${i}`));
    return outcomes;
  };

  /** Time passes for every counter: each stored moment moves `seconds` into the past. */
  const passTime = (seconds: number) =>
    h.prisma.$executeRaw`UPDATE rate_limits SET window_started = window_started - make_interval(secs => ${seconds}), last_at = last_at - make_interval(secs => ${seconds})`;

  /** The answer to one more wrong guess from a new browser: its status and Retry-After. */
  const trickle = async (account: Account) => {
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    h.keep('a trickled guess');
    const next = await browser.submit(page, { email: account.email, password: 'a trickled guess' });
    return { status: next.status, retryAfter: Number(next.headers.get('retry-after')) };
  };

  /** Another browser holding (a copy of) `from`'s device cookie, and nothing else. */
  const withDeviceCookieOf = async (from: Browser) => {
    const to = h.browser();
    for (const cookie of await from.jar.getCookies(h.f.issuer)) if (cookie.key === 'sesame-device') await to.jar.setCookie(cookie.toString(), h.f.issuer);
    return to;
  };

  it('lets the owner’s browser that signed in before sign in while guesses from other addresses have locked the account', async () => {
    const account = await h.account({ label: 'owner' });
    const owners = h.browser();
    expect(await attempt(owners, account.email, account.password)).toBe('signed in');

    expect(await guessFromElsewhere(account, 7)).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong', 'too many', 'too many']);
    expect(await attempt(owners, account.email, account.password)).toBe('signed in');
    // Typed in another case, it is the same account.
    expect(await attempt(owners, account.email.toUpperCase(), account.password)).toBe('signed in');
    // A browser the account does not know waits, right password or not.
    expect(await attempt(h.browser(), account.email, account.password)).toBe('too many');
  });

  it('sets the device cookie HttpOnly, SameSite=Lax, for the whole site, for 180 days', async () => {
    const account = await h.account({ label: 'cookie' });
    const browser = h.browser();
    expect(await attempt(browser, account.email, account.password)).toBe('signed in');
    const [cookie] = (await browser.jar.getCookies(h.f.issuer)).filter((c) => c.key === 'sesame-device');
    expect(cookie).toBeDefined();
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe('lax');
    expect(cookie!.path).toBe('/');
    const days = ((cookie!.expires as Date).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(179);
    expect(days).toBeLessThanOrEqual(180);
    // It names no account.
    expect(cookie!.value.toLowerCase()).not.toContain('cookie-');
  });

  it('does not let a device cookie speak for another account, nor a forged or altered one pass', async () => {
    const owner = await h.account({ label: 'first' });
    const other = await h.account({ label: 'second' });
    const browser = h.browser();
    expect(await attempt(browser, owner.email, owner.password)).toBe('signed in');
    await guessFromElsewhere(other, 5);
    // The browser knows the first account, not the second: it waits like any other.
    expect(await attempt(browser, other.email, other.password)).toBe('too many');

    await guessFromElsewhere(owner, 5);
    const forger = h.browser();
    const [cookie] = (await browser.jar.getCookies(h.f.issuer)).filter((c) => c.key === 'sesame-device');
    const altered = cookie!.value.replace(/\.([\w-])/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    await forger.jar.setCookie(`sesame-device=${altered}; Path=/`, h.f.issuer);
    expect(await attempt(forger, owner.email, owner.password)).toBe('too many');
  });

  it('limits a device cookie’s own failures, so that a stolen one is not unlimited', async () => {
    const account = await h.account({ label: 'stolen' });
    const owners = h.browser();
    expect(await attempt(owners, account.email, account.password)).toBe('signed in');
    await guessFromElsewhere(account, 5);

    const thief = await withDeviceCookieOf(owners);
    const outcomes: string[] = [];
    for (let i = 1; i <= 6; i++) outcomes.push(await attempt(thief, account.email, `thief guess ${i}`));
    expect(outcomes).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong', 'too many']);
    // Its budget spent, the cookie counts for nothing: the account's lock applies again.
    expect(await attempt(thief, account.email, account.password)).toBe('too many');
  });

  it('still counts the owner’s browser against its address’s limit', async () => {
    const account = await h.account({ label: 'counted' });
    const owners = h.browser();
    expect(await attempt(owners, account.email, account.password)).toBe('signed in');
    // 30 failures from the owner's address, on other accounts: credential stuffing.
    const address = { 'x-forwarded-for': h.addressOf(owners) };
    for (let i = 1; i <= 30; i++) expect(await attempt(new Browser(h.f.issuer, address), `stuffed-${i}@example.com`, 'not the password')).toBe('wrong');
    expect(await attempt(owners, account.email, account.password)).toBe('too many');
  });

  it('cannot be kept locked by a trickle of guesses: the lock ends 30 minutes after it began, whatever is tried meanwhile', async () => {
    const account = await h.account({ label: 'trickled' });
    expect(await guessFromElsewhere(account, 5)).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong']);
    let refused = await trickle(account);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBeGreaterThan(29 * 60);

    // One guess every ten minutes: each is refused, and none moves the end of the lock.
    await passTime(10 * 60);
    refused = await trickle(account);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBeLessThanOrEqual(20 * 60);
    await passTime(10 * 60);
    refused = await trickle(account);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBeLessThanOrEqual(10 * 60);

    await passTime(10 * 60 + 1);
    expect(await guessFromElsewhere(account, 1)).toEqual(['wrong']);
    // The owner, from a browser the account has never seen, gets in.
    expect(await attempt(h.browser(), account.email, account.password)).toBe('signed in');
  });

  it('renews the lock only for a full series of five new guesses', async () => {
    const account = await h.account({ label: 'renewed' });
    await guessFromElsewhere(account, 5);
    await passTime(30 * 60 + 1);
    expect(await guessFromElsewhere(account, 6)).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong', 'too many']);
  });

  it('writes no password or cookie to the logs', () => expectNoSecretsInLogs(h));
});
