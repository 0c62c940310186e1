// Issue 10, passkeys on the account page. Without JavaScript (a cookie-jar browser: forms as the
// HTML describes them) the list, rename and remove work, adding one says it needs JavaScript,
// and the sign-in page offers no passkey button; nobody renames or removes another's passkey;
// the last way to sign in is never removed. In Chromium (JavaScript on, a virtual authenticator):
// the same device added twice is refused with a message in the person's language, and a
// disabled account never signs in with its passkey. Every store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import type { Chromium } from '../support/chromium.ts';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { addAuthenticator, expectOptionsInThePage, freshVisit, openSecurityPage, openSignIn, PASSWORD, presence, securityMails, spentChallenges, startWorld, storedPasskeys } from './harness.ts';
import type { Authenticator, PasskeyWorld } from './harness.ts';

const GRACE = 'grace@example.com';
const MALLORY = 'mallory@example.com';

let chromium: Chromium;

beforeAll(async () => {
  chromium = await launchChromium({ locale: 'en-US' });
});

afterAll(async () => {
  await chromium?.close();
});

describe.each(STORES)('Passkeys on the account page (%s)', (kind) => {
  let world: PasskeyWorld;
  let grace: { id: string };
  let key: Authenticator;
  /** Grace's browser without JavaScript, signed in to the account page. */
  let plain: Browser;

  beforeAll(async () => {
    world = await startWorld(kind, chromium);
    grace = await world.server.sesame.users.create({ email: GRACE, password: PASSWORD, emailVerified: true, givenName: 'Grace', familyName: 'Hopper' });
    await world.server.sesame.users.create({ email: MALLORY, password: PASSWORD, emailVerified: true, givenName: 'Mallory', familyName: 'Moriarty' });
    key = await addAuthenticator(world.cdp);
  });

  afterAll(async () => {
    await world?.stop();
  });

  /** Signs in to /account/security without JavaScript, with the password. */
  async function plainSecurityPage(email: string): Promise<{ browser: Browser; page: Page }> {
    const browser = new Browser(world.server.issuer);
    const login = await browser.open(`${world.server.issuer}/account/security`);
    // Without JavaScript, no passkey is offered: its form stays hidden.
    expect(login.doc.querySelector('form[data-passkey="sign-in"]')?.hasAttribute('hidden')).toBe(true);
    expect(optionsIn(login, 'sign-in')).toMatchObject({ allowCredentials: [], userVerification: 'required', challenge: expect.stringMatching(/^[\w-]{60,}$/) });
    const page = await browser.submit(login, { email, password: PASSWORD });
    expect(page.doc.querySelector('#passkeys-heading'), page.body.slice(0, 2000)).not.toBeNull();
    return { browser, page };
  }

  /** Adds a passkey named `name` to Grace's account in Chromium, on the account page. */
  async function addInChromium(name: string, options: { secondFactor?: boolean } = {}) {
    await openSecurityPage(world, key, GRACE, options);
    await world.page.getByLabel('Name (optional)').fill(name);
    await presence(world, key, true);
    await world.page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
    await world.page.getByText('Passkey added.').waitFor();
  }

  /** The ceremony's options the page drew into its passkey form. */
  const optionsIn = (page: Page, kind: string) => JSON.parse(page.doc.querySelector(`form[data-passkey="${kind}"]`)?.getAttribute('data-options') ?? 'null');
  const text = (page: Page) => page.doc.querySelector('main')?.text ?? '';
  const formOf = (page: Page, action: string) => `form[action="${action}"]`;

  it('works without JavaScript: the list, rename and remove; adding says it needs JavaScript', async () => {
    let page: Page;
    ({ browser: plain, page } = await plainSecurityPage(GRACE));
    expect(page.doc.querySelector('form[data-passkey="register"]')?.hasAttribute('hidden')).toBe(true);
    expect(page.doc.querySelector('[data-passkey-fallback]')?.hasAttribute('hidden')).toBe(false);
    expect(text(page)).toContain('You have no passkey yet.');
    expect(optionsIn(page, 'register')).toMatchObject({ user: { name: GRACE, displayName: 'Grace Hopper' }, excludeCredentials: [] });
    // Pages drawn, none stored a challenge.
    expect(await spentChallenges(world)).toBe(0);

    await addInChromium('YubiKey 5');
    const [stored] = await storedPasskeys(world, grace.id);
    page = await plain.open(`${world.server.issuer}/account/security`);
    expect(text(page)).toContain('YubiKey 5');

    const rename = `/account/passkeys/${stored!.id}/rename`;
    page = await plain.submit(page, { name: 'x'.repeat(65) }, { selector: formOf(page, rename) });
    expect(text(page)).toContain('Enter a name of at most 64 characters.');
    page = await plain.submit(page, { name: '  Desk   key ' }, { selector: formOf(page, rename) });
    expect(text(page)).toContain('Passkey renamed.');
    expect(text(page)).toContain('Desk key');
    expect((await storedPasskeys(world, grace.id))[0]!.name).toBe('Desk key');

    page = await plain.submit(page, {}, { selector: formOf(page, `/account/passkeys/${stored!.id}/remove`) });
    expect(text(page)).toContain('Passkey removed.');
    expect(await storedPasskeys(world, grace.id)).toEqual([]);
    await expect.poll(() => securityMails(world).filter((mail) => mail.includes('Desk key')).length).toBe(1);

    await world.server.sesame.audit.settled();
    const actions = await world.server.db.prisma.auditEvent.findMany({ where: { userId: grace.id, action: { startsWith: 'passkey.' } }, orderBy: { id: 'asc' } });
    expect(actions.map((event) => event.action)).toEqual(['passkey.added', 'passkey.renamed', 'passkey.removed']);
  });

  it("leaves another account's passkeys alone", async () => {
    await addInChromium('Laptop');
    const [stored] = await storedPasskeys(world, grace.id);
    const { browser: mallory, page } = await plainSecurityPage(MALLORY);
    const csrf = page.doc.querySelector('input[name="csrf"]')!.getAttribute('value')!;
    for (const action of ['rename', 'remove']) {
      const response = await mallory.request(`${world.server.issuer}/account/passkeys/${stored!.id}/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: world.server.issuer },
        body: new URLSearchParams({ csrf, name: 'Mine now' }),
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/account/security?passkey=not-found#passkeys');
    }
    expect(await storedPasskeys(world, grace.id)).toMatchObject([{ id: stored!.id, name: 'Laptop' }]);
  });

  it('never removes the last way to sign in', async () => {
    // Grace's passkey is now her only way in: no password, no linked account.
    await world.server.db.prisma.user.update({ where: { id: grace.id }, data: { passwordHash: null } });
    const [stored] = await storedPasskeys(world, grace.id);
    let page = await plain.open(`${world.server.issuer}/account/security`);
    page = await plain.submit(page, {}, { selector: formOf(page, `/account/passkeys/${stored!.id}/remove`) });
    expect(text(page)).toContain('This passkey is your only way to sign in');
    expect(await storedPasskeys(world, grace.id)).toHaveLength(1);
  });

  it('refuses the same device twice, saying so in the person’s language', async () => {
    await world.server.sesame.users.setPasswordHash(grace.id, (await world.server.db.prisma.user.findUniqueOrThrow({ where: { emailKey: MALLORY } })).passwordHash!);
    await openSecurityPage(world, key, GRACE, { secondFactor: true });
    await world.page.goto(`${world.server.issuer}/account/security?lang=fr`);
    await presence(world, key, true);
    await world.page.getByRole('button', { name: 'Ajouter une clé d’accès', exact: true }).click();
    await world.page.getByRole('alert').filter({ hasText: 'Cette clé d’accès est déjà enregistrée pour votre compte.' }).waitFor();
    expect(await storedPasskeys(world, grace.id)).toHaveLength(1);
    expectOptionsInThePage(world);
  });

  it('a disabled account never signs in with its passkey', async () => {
    await world.server.sesame.users.setDisabled(grace.id, true);
    await freshVisit(world);
    await presence(world, key, true);
    // The browser's suggestion is taken at once (autofill); Sésame refuses it.
    const answer = world.page.waitForResponse((response) => response.url().endsWith('/passkey') && response.request().method() === 'POST');
    await openSignIn(world);
    expect((await answer).status()).toBe(401);
    await world.page.getByRole('alert').filter({ hasText: 'This passkey could not be used.' }).waitFor();
    await world.server.sesame.users.setDisabled(grace.id, false);
  });
});

describe.each(STORES)('Adding a passkey after the sign-in has aged (%s)', (kind) => {
  let world: PasskeyWorld;
  let key: Authenticator;

  beforeAll(async () => {
    // Every change asks for a sign-in less than a second old.
    world = await startWorld(kind, chromium, { ACCOUNT_REAUTH_AGE: '1' });
    await world.server.sesame.users.create({ email: GRACE, password: PASSWORD, emailVerified: true, givenName: 'Grace', familyName: 'Hopper' });
    key = await addAuthenticator(world.cdp);
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('sends the form to the sign-in first, and the device makes no passkey meanwhile', async () => {
    const { page } = world;
    await openSecurityPage(world, key, GRACE);
    const options = () => page.locator('form[data-passkey="register"]').getAttribute('data-options');
    // Too old for a change: the page draws no ceremony.
    await expect
      .poll(async () => {
        await page.reload();
        return options();
      }, { timeout: 10_000, interval: 250 })
      .toBe('');
    await presence(world, key, true);
    await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in', exact: true }).waitFor();
    expect(await key.credentials()).toEqual([]);
    expect(await storedPasskeys(world, (await world.server.db.prisma.user.findUniqueOrThrow({ where: { emailKey: GRACE } })).id)).toEqual([]);
  });
});
