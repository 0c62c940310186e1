// Issue 10, passkeys, in a real browser: a person adds a passkey on the account page, then signs in
// to an app without a password (the browser's own suggestion in the e-mail field, and the "Sign
// in with a passkey" button), gives it as the second factor after the password, removes it (it
// no longer signs in), and adds a synced one. The app reads how the person signed in from the ID
// token (openid-client): amr hwk for a security key, swk for a synced passkey, mfa, and the MFA
// acr. A response used once is refused the second time, and so is a copied key (its signature
// counter behind the one Sésame saw). The ceremonies' options are in the pages: no page asks for
// them, no page's CSP lets a script fetch, and drawing a page stores no challenge (a passkey used
// stores its own, once). Chromium's virtual authenticator is the person's device (harness.ts);
// every store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import type { Chromium } from '../support/chromium.ts';
import { STORES } from '../support/stores.ts';
import { ACR_MFA } from '../../src/oidc/acr.ts';
import { addAuthenticator, backAtApp, ceremonyUnderWay, expectOptionsInThePage, freshVisit, interactionOf, openSecurityPage as openSecurityPageAs, openSignIn, PASSWORD, presence, securityMails, signInWithPassword, spentChallenges, startWorld, storedPasskeys } from './harness.ts';
import type { Authenticator, PasskeyWorld } from './harness.ts';

const EMAIL = 'ada@example.com';

let chromium: Chromium;

beforeAll(async () => {
  chromium = await launchChromium({ locale: 'en-US' });
});

afterAll(async () => {
  await chromium?.close();
});

describe.each(STORES)('Passkeys in Chromium (%s)', (kind) => {
  let world: PasskeyWorld;
  let ada: { id: string };
  let securityKey: Authenticator;
  /** The body the browser posted to sign in with the button: replayed below. */
  let usedAssertion: string;

  beforeAll(async () => {
    world = await startWorld(kind, chromium);
    // Quotes, brackets and an ampersand in the name the registration options carry: they reach
    // the browser's ceremony through the page's autoescaped data-options intact.
    ada = await world.server.sesame.users.create({ email: EMAIL, password: PASSWORD, emailVerified: true, givenName: 'Ada "Augusta"', familyName: "King <Lovelace> & Byron's" });
    securityKey = await addAuthenticator(world.cdp);
  });

  afterAll(async () => {
    await world?.stop();
  });

  const page = () => world.page;
  const button = (name: string) => page().getByRole('button', { name, exact: true });
  const heading = (name: string) => page().getByRole('heading', { level: 1, name, exact: true });

  const freshBrowser = () => freshVisit(world);
  /** Why Sésame refused passkeys so far (its debug log). */
  const refusals = () => world.server.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'passkey refused').map((entry) => entry.reason as string);
  const openSecurityPage = (options: { secondFactor?: boolean } = {}) => openSecurityPageAs(world, securityKey, EMAIL, options);

  it('adds a passkey on the account page, named after the browser, and tells its owner', async () => {
    await openSecurityPage();
    expect(await page().getByText('Adding a passkey needs JavaScript').isHidden()).toBe(true);
    await presence(world, securityKey, true);
    await button('Add a passkey').click();
    await page().getByText('Passkey added.').waitFor();

    const [stored] = await storedPasskeys(world, ada.id);
    expect(stored).toMatchObject({ deviceType: 'singleDevice', backedUp: false, lastUsedAt: null });
    expect(stored!.name).toMatch(/^Chrome.* on Linux$/);
    expect(stored!.transports).toContain('internal');
    expect((await securityKey.credentials()).map((credential) => credential.id)).toEqual([stored!.id]);
    expect(await page().locator('#passkeys li').count()).toBe(1);
    expect(await page().locator('#passkeys li').innerText()).toContain(stored!.name);
    expect(await page().locator('#passkeys li').innerText()).toContain('Security key');
    expect(await page().locator('#passkeys li').innerText()).toContain('Not used yet');

    await expect.poll(() => securityMails(world).length).toBe(1);
    expect(securityMails(world)[0]).toContain(stored!.name);
    await world.server.sesame.audit.settled();
    expect(await world.server.db.prisma.auditEvent.count({ where: { action: 'passkey.added', userId: ada.id, target: stored!.id } })).toBe(1);
  });

  it('signs in without a password: the browser offers the passkey in the e-mail field', async () => {
    await freshBrowser();
    await presence(world, securityKey, true);
    const flow = await openSignIn(world);
    const uid = interactionOf(page());
    // Nothing pressed: the page's conditional request (autocomplete="username webauthn") is
    // answered by the authenticator as a person picking the suggestion would.
    const claims = await backAtApp(world, flow);
    expect(claims.sub).toBe(ada.id);
    expect(claims.amr).toEqual(['hwk', 'mfa']);
    expect(claims.acr).toBe(ACR_MFA);
    expect(world.posts.map((post) => post.path)).toContain(`/interaction/${uid}/passkey`);
    expectOptionsInThePage(world);
    const [stored] = await storedPasskeys(world, ada.id);
    expect(stored!.lastUsedAt).not.toBeNull();
    expect(stored!.counter).toBeGreaterThan(0n);
  });

  it('signs in without a password with the "Sign in with a passkey" button', async () => {
    await freshBrowser();
    await presence(world, securityKey, false);
    const flow = await openSignIn(world);
    const uid = interactionOf(page());
    // The autofill request waits (no one picks the suggestion); the button replaces it.
    await expect.poll(() => ceremonyUnderWay(page())).toBe(true);
    const spent = await spentChallenges(world);
    await page().reload();
    await expect.poll(() => ceremonyUnderWay(page())).toBe(true);
    expect(await spentChallenges(world)).toBe(spent);
    await presence(world, securityKey, true);
    await button('Sign in with a passkey').click();
    const claims = await backAtApp(world, flow);
    expect(claims.sub).toBe(ada.id);
    expect(claims.amr).toEqual(['hwk', 'mfa']);
    expect(await spentChallenges(world)).toBe(spent + 1);
    expectOptionsInThePage(world);
    usedAssertion = world.posts.find((post) => post.path === `/interaction/${uid}/passkey`)!.body;
  });

  it('refuses an answer used once already, in another sign-in or its own, and an answer that is not one', async () => {
    await freshBrowser();
    await presence(world, securityKey, false);
    await openSignIn(world);
    const uid = interactionOf(page());
    const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const csrf = await page().locator('form[data-passkey] input[name="csrf"]').inputValue();
    // Into another sign-in: its challenge was not issued for this one.
    const replayed = new URLSearchParams(usedAssertion);
    replayed.set('csrf', csrf);
    const refused = await page().request.post(`${world.server.issuer}/interaction/${uid}/passkey`, { form: Object.fromEntries(replayed), maxRedirects: 0 });
    expect(refused.status()).toBe(401);
    expect(await refused.text()).toContain('This passkey could not be used.');
    const challenge = JSON.parse(Buffer.from(JSON.parse(replayed.get('response')!).response.clientDataJSON, 'base64url').toString()).challenge;
    expect(await world.server.db.prisma.webauthnChallenge.count({ where: { challenge } })).toBe(1);
    expect(refusals().at(-1)).toBe('challenge not issued for this ceremony');
    // Nothing of the ceremony in the log: neither its challenge nor the browser's answer.
    expect(world.server.logs.filter((line) => line.includes(challenge) || line.includes(replayed.get('response')!.slice(0, 60)))).toEqual([]);

    // Into the same sign-in: the browser's answer is kept from reaching Sésame, sent once (it
    // signs in), then again. Its counter is let through (stored 0, as a synced passkey reports):
    // only its challenge, spent, stands in the way.
    let answer = '';
    await page().route(`**/interaction/${uid}/passkey`, (route) => ((answer = route.request().postData() ?? ''), route.abort()));
    await expect.poll(() => ceremonyUnderWay(page())).toBe(true);
    await presence(world, securityKey, true);
    await button('Sign in with a passkey').click();
    await expect.poll(() => answer).not.toBe('');
    await page().unrouteAll({ behavior: 'ignoreErrors' });
    const first = await page().request.post(`${world.server.issuer}/interaction/${uid}/passkey`, { form: Object.fromEntries(new URLSearchParams(answer)), maxRedirects: 0 });
    expect(first.status()).toBe(303);
    const [used] = await storedPasskeys(world, ada.id);
    await world.server.db.prisma.passkey.update({ where: { id: used!.id }, data: { counter: 0n } });
    const again = new URLSearchParams(answer);
    again.set('csrf', csrfOf(await (await page().request.get(`${world.server.issuer}/interaction/${uid}`)).text()));
    const second = await page().request.post(`${world.server.issuer}/interaction/${uid}/passkey`, { form: Object.fromEntries(again), maxRedirects: 0 });
    expect(second.status()).toBe(401);
    expect(await second.text()).toContain('This passkey could not be used.');
    expect(refusals().at(-1)).toBe('challenge already used');
    await world.server.db.prisma.passkey.update({ where: { id: used!.id }, data: { counter: used!.counter } });

    const malformed = await page().request.post(`${world.server.issuer}/interaction/${uid}/passkey`, { form: { csrf: again.get('csrf')!, response: '{"id":' }, maxRedirects: 0 });
    expect(malformed.status()).toBe(400);
  });

  it('asks for the passkey after the password', async () => {
    await freshBrowser();
    await presence(world, securityKey, false);
    const flow = await openSignIn(world);
    await signInWithPassword(page(), EMAIL);
    await heading('Confirm it is you').waitFor();
    await presence(world, securityKey, true);
    await button('Use a passkey').click();
    const claims = await backAtApp(world, flow);
    expect(claims.sub).toBe(ada.id);
    expect(claims.amr).toEqual(['pwd', 'hwk', 'mfa']);
    expect(claims.acr).toBe(ACR_MFA);
  });

  it('refuses a device whose signature counter went back (a copied key)', async () => {
    const authenticatorId = securityKey.id;
    const [original] = (await world.cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    const [before] = await storedPasskeys(world, ada.id);
    expect(BigInt(original!.signCount)).toBe(before!.counter);
    const replace = async (signCount: number) => {
      await world.cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: original!.credentialId });
      await world.cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...original!, signCount } });
    };
    await replace(0);
    await freshBrowser();
    await presence(world, securityKey, true);
    const answer = page().waitForResponse((response) => response.url().endsWith('/passkey') && response.request().method() === 'POST');
    await openSignIn(world);
    expect((await answer).status()).toBe(401);
    await page().getByRole('alert').filter({ hasText: 'This passkey could not be used.' }).waitFor();
    expect((await storedPasskeys(world, ada.id))[0]!.counter).toBe(before!.counter);
    expect(refusals()).toContain('authentication: Response counter value 1 was lower than expected ' + before!.counter);
    await replace(original!.signCount);
  });

  it('a removed passkey no longer signs in', async () => {
    await openSecurityPage({ secondFactor: true });
    const [stored] = await storedPasskeys(world, ada.id);
    await page().getByRole('button', { name: `Remove “${stored!.name}”` }).click();
    await page().getByText('Passkey removed.').waitFor();
    expect(await storedPasskeys(world, ada.id)).toEqual([]);
    await expect.poll(() => securityMails(world).length).toBe(2);
    expect(securityMails(world)[1]).toContain(stored!.name);

    // The device still holds it; Sésame no longer knows it.
    await freshBrowser();
    await presence(world, securityKey, false);
    await openSignIn(world);
    await expect.poll(() => ceremonyUnderWay(page())).toBe(true);
    await presence(world, securityKey, true);
    const answer = page().waitForResponse((response) => response.url().endsWith('/passkey') && response.request().method() === 'POST');
    await button('Sign in with a passkey').click();
    expect((await answer).status()).toBe(401);
    await page().getByRole('alert').filter({ hasText: 'This passkey could not be used.' }).waitFor();
    expect(await page().getByLabel('Password', { exact: true }).isVisible()).toBe(true);
    expect(refusals().at(-1)).toBe('unknown credential');
  });

  it('a synced passkey signs in as swk', async () => {
    await securityKey.remove();
    const phone = await addAuthenticator(world.cdp, { synced: true });
    securityKey = phone;
    await openSecurityPage();
    await page().getByLabel('Name (optional)').fill('  Phone   in my pocket ');
    await presence(world, phone, true);
    await button('Add a passkey').click();
    await page().getByText('Passkey added.').waitFor();
    expect(await page().locator('#passkeys li').innerText()).toContain('Phone in my pocket');
    expect(await page().locator('#passkeys li').innerText()).toContain('Synced passkey');
    const [stored] = await storedPasskeys(world, ada.id);
    expect(stored).toMatchObject({ name: 'Phone in my pocket', deviceType: 'multiDevice', backedUp: true });

    await freshBrowser();
    const flow = await openSignIn(world);
    const claims = await backAtApp(world, flow);
    expect(claims.amr).toEqual(['swk', 'mfa']);
    expect(claims.acr).toBe(ACR_MFA);
  });
});
