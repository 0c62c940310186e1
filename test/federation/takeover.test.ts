// Issue 4, checklist 53: pre-account takeover. A squatter registers the victim's address through
// the registration page (never confirmed) and chooses a password; later the victim signs in with
// Google, which vouches for the address. The victim gets the account, under Google's names; the
// squatter's password, sessions, refresh tokens, pending links and the apps the squatter allowed
// die with the squat. Run twice:
// with the default settings (the squatter is stuck at "confirm your address" but holds a session)
// and with ALLOW_UNVERIFIED_EMAIL_SIGN_IN=true (the squatter could sign in to apps and got tokens).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from '../support/browser.ts';
import { RP } from '../support/fixture.ts';
import { beginSignIn, discover, oidc } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { click, expectLoginPageSaying, heading, openSignIn, refreshOutcome, SAYS, signInWithGoogle, startFederation, tokensFor } from './harness.ts';
import type { Federation, Page } from './harness.ts';

const SETTINGS = STORES.flatMap((kind) => [
  { kind, allowUnverified: false },
  { kind, allowUnverified: true },
]);

describe.each(SETTINGS)('pre-account takeover through Google ($kind, ALLOW_UNVERIFIED_EMAIL_SIGN_IN=$allowUnverified)', ({ kind, allowUnverified }) => {
  let h: Federation;
  // Not containing the squatter's names: the policy would refuse it (password-policy.ts).
  const squatterPassword = 'occupied rooms remain forever';

  beforeAll(async () => {
    h = await startFederation(kind, { ALLOW_UNVERIFIED_EMAIL_SIGN_IN: String(allowUnverified) });
    h.keep(squatterPassword);
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function passwordSignIn(browser: Browser, email: string): Promise<{ page: Page; flow: Awaited<ReturnType<typeof openSignIn>>['flow'] }> {
    const { flow, page } = await openSignIn(h, browser);
    return { flow, page: await browser.submit(page, { email, password: squatterPassword }) };
  }

  it('gives the account to the Google owner of the address, and takes everything from the squatter', async () => {
    const victim = h.googleAccount({ given_name: 'Victoria', family_name: 'Tim' });
    const email = victim.email!;

    // The squatter registers the victim's address and signs in with the password.
    const squatter = h.browser();
    const { page: login } = await openSignIn(h, squatter);
    const form = await click(squatter, login, 'a[href$="/register"]');
    const registered = await squatter.submit(form, { given_name: 'Squat', family_name: 'Ter', email, password: squatterPassword });
    expect(heading(registered)).toBe(SAYS.inbox);
    const squat = await passwordSignIn(squatter, email);
    let squatterTokens: Awaited<ReturnType<typeof tokensFor>> | undefined;
    const wiki = await discover(h.f.issuer, h.f.web.id, h.f.web.secret);
    const wikiConsent = `Wiki <b>&</b> wants to access your ${h.f.server.config.brandName} account`;
    if (allowUnverified) {
      squatterTokens = await tokensFor(h, squat.flow, squat.page);
      expect(squatterTokens.claims()).toMatchObject({ email, email_verified: false, given_name: 'Squat' });
      // The squatter also lets a third-party app see the account.
      const consent = await squatter.open((await beginSignIn(wiki, `${RP}/cb`)).url);
      expect(heading(consent)).toBe(wikiConsent);
      expect((await squatter.submit(consent, {}, { button: { name: 'decision', value: 'allow' } })).stoppedAt).toMatch(/code=/);
    } else {
      expect(heading(squat.page), 'the squatter holds a session, stuck at confirming the address').toBe(SAYS.verifyTitle);
    }
    const [confirmation] = await h.inbox(email, 'verify-email');
    expect(confirmation?.link).toBeDefined();

    // The victim signs in with Google.
    const victimBrowser = h.browser();
    const { flow, page } = await signInWithGoogle(h, victimBrowser, victim);
    const claims = (await tokensFor(h, flow, page)).claims()!;
    expect(claims).toMatchObject({ email, email_verified: true, given_name: 'Victoria', family_name: 'Tim', name: 'Victoria Tim' });
    if (squatterTokens) expect(claims.sub, 'the same account, reclaimed').toBe(squatterTokens.claims()!.sub);

    // The squatter's password no longer opens it.
    const again = await passwordSignIn(h.browser(), email);
    expect(again.page.status).toBe(401);
    expect(again.page.doc.querySelector('[role="alert"]')?.text.trim()).toBe(SAYS.wrongPassword);

    // The squatter's session is gone: a new sign-in in the squatter's browser starts at the login page.
    const { page: back } = await openSignIn(h, squatter);
    expect(back.stoppedAt).toBeUndefined();
    expect(heading(back)).toBe(SAYS.signIn);

    // So are the squatter's tokens.
    if (squatterTokens) {
      expect(await refreshOutcome(h.intranet, squatterTokens.refresh_token!)).toBe('invalid_grant');
      await expect(oidc.fetchUserInfo(h.intranet, squatterTokens.access_token, squatterTokens.claims()!.sub)).rejects.toThrow();
    }

    // And the confirmation link the squat sent to the victim's inbox.
    const link = await h.browser().open(confirmation!.link!);
    expect(link.status).toBe(400);
    expect(heading(link)).toBe(SAYS.linkInvalid);

    // What the squatter allowed is not the victim's choice: the third-party app asks the victim.
    expect(heading(await victimBrowser.open((await beginSignIn(wiki, `${RP}/cb`)).url))).toBe(wikiConsent);

    // The victim comes back with Google to the same account.
    const returning = await signInWithGoogle(h, h.browser(), victim);
    expect((await tokensFor(h, returning.flow, returning.page)).claims()!.sub).toBe(claims.sub);
  });

  it('takes the account from a squatter who came through a Google account of their own with the address unverified', async () => {
    const victim = h.googleAccount({ given_name: 'Valentina', family_name: 'Owner' });
    const squatterGoogle = { ...h.googleAccount({ given_name: 'Sly', family_name: 'Squatter' }), email: victim.email, email_verified: false };
    const squatter = h.browser();
    const squat = await signInWithGoogle(h, squatter, squatterGoogle);
    if (allowUnverified) await tokensFor(h, squat.flow, squat.page);
    else expect(heading(squat.page)).toBe(SAYS.verifyTitle);

    const { flow, page } = await signInWithGoogle(h, h.browser(), victim);
    expect((await tokensFor(h, flow, page)).claims()).toMatchObject({ email: victim.email, email_verified: true, given_name: 'Valentina' });

    // The squatter's Google account no longer opens it, and cannot claim it back without Google's word on the address.
    const back = await signInWithGoogle(h, h.browser(), squatterGoogle);
    expectLoginPageSaying(back.page, SAYS.unverified);
    const { page: again } = await openSignIn(h, squatter);
    expect(heading(again), 'the squatter was signed out').toBe(SAYS.signIn);
  });

  it('never logs the Google client secret, codes or tokens', () => {
    expect(h.secretsInLogs()).toEqual([]);
  });
});
