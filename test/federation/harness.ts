// What every federation suite needs: the real Sésame pointed at a second oidc-provider playing
// Google, its e-mail going to a SendGrid stand-in, no-JS browsers that follow redirects to the
// stand-in and each come from an address of their own (per-address limits never spill from one
// test into another), and a record of every secret handled, to prove none reached the logs.
import { expect } from 'vitest';
import type { Env } from '../../src/config.ts';
import type { Prisma } from '../../src/db/database.ts';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { startGoogleStandIn } from '../support/google-stand-in.ts';
import type { GoogleAccount, GoogleStandIn } from '../support/google-stand-in.ts';
import { beginSignIn, discover, oidc, redeem } from '../support/rp.ts';
import type { Flow } from '../support/rp.ts';
import { readMail, startSendGridStandIn, untilMailSent } from '../support/sendgrid-stand-in.ts';
import type { Mail, SendGridStandIn } from '../support/sendgrid-stand-in.ts';
import type { StoreKind } from '../support/stores.ts';
import { heading } from '../support/pages.ts';
export { heading, click, masked, refreshOutcome } from '../support/pages.ts';

export type { GoogleAccount, Mail, Page };
export const INTRANET_CB = `${RP}/intranet/cb`;

/** What a person reads (English). */
export const SAYS = {
  continueWithGoogle: 'Continue with Google',
  signIn: 'Sign in',
  cancelled: 'You cancelled signing in with Google.',
  failed: 'Signing in with Google did not work. Try again, or sign in with your password.',
  domain: 'This Google account cannot sign in here. Use your work account.',
  unverified: 'Google has not verified this e-mail address, and an account already uses it. Sign in with your password instead.',
  wrongPassword: 'The e-mail address or password is incorrect.',
  linkTitle: 'Link your Google sign-in',
  linkDone: 'Your Google sign-in is linked',
  linkInvalid: 'This link no longer works',
  verifyTitle: 'Confirm your e-mail address',
  profileTitle: 'Complete your profile',
  inbox: 'Check your inbox',
  expired: 'This sign-in has expired',
  notFound: 'This page does not exist.',
  resetTitle: 'Choose a new password',
  resetDone: 'Your password was changed',
} as const;


export interface Account {
  id: string;
  email: string;
  password: string;
}

export interface Federation {
  f: Fixture;
  google: GoogleStandIn;
  sg: SendGridStandIn;
  prisma: Prisma;
  /** The first-party app (no consent page). */
  intranet: oidc.Configuration;
  /** A fresh browser from an address of its own; it follows redirects to the stand-in unless told not to. */
  browser(options?: { followGoogle?: boolean }): Browser;
  /** A Google account nobody has used yet: a new `sub`, and an address under `domain`. */
  googleAccount(overrides?: Partial<GoogleAccount> & { domain?: string }): GoogleAccount;
  /** A local account with a password, made the way the admin CLI makes them. */
  account(options?: { verified?: boolean }): Promise<Account>;
  /** Waits until every queued e-mail reached the stand-in, then returns what `to` received. */
  inbox(to: string, kind?: string): Promise<Mail[]>;
  keep(...values: (string | null | undefined)[]): void;
  /** Secrets handled so far (Google's client secret, codes and tokens, passwords, links…) that the logs mention. */
  secretsInLogs(): string[];
  stop(): Promise<void>;
}

export async function startFederation(kind: StoreKind, env: Env = {}, { withGoogle = true } = {}): Promise<Federation> {
  const google = await startGoogleStandIn();
  const sg = await startSendGridStandIn();
  const f = await startFixture(kind, {
    TRUST_PROXY: 'true',
    SENDGRID_API_KEY: 'SG.federation-stand-in-key',
    MAIL_FROM: 'Sésame <no-reply@example.com>',
    SENDGRID_API_URL: sg.url,
    MAIL_RETRY_DELAY: '1',
    ...(withGoogle ? google.env : {}),
    ...env,
  });
  const prisma = f.server.db.prisma;
  const secrets = new Set<string>([google.clientSecret, f.web.secret, f.firstParty.secret]);
  const keep = (...values: (string | null | undefined)[]) => values.forEach((value) => value && value.length >= 8 && secrets.add(value));
  const browsers: Browser[] = [];
  let people = 0;

  return {
    f,
    google,
    sg,
    prisma,
    intranet: await discover(f.issuer, f.firstParty.id, f.firstParty.secret),
    browser({ followGoogle = true } = {}) {
      const n = browsers.length + 1;
      const browser = new Browser(f.issuer, { 'x-forwarded-for': `10.4.${(n >> 8) & 255}.${n & 255}` });
      if (followGoogle) browser.alsoFollows.push(google.issuer);
      browsers.push(browser);
      return browser;
    },
    googleAccount({ domain = 'gmail.com', ...overrides } = {}) {
      people++;
      return { sub: `10${String(people).padStart(19, '0')}`, email: `person.${people}@${domain}`, email_verified: true, given_name: 'Gabriel', family_name: 'Garcia', ...overrides };
    },
    async account({ verified = true } = {}) {
      people++;
      const password = `quiet harbour lantern ${people} cobalt`;
      keep(password);
      const user = await f.server.sesame.users.create({ email: `local.${people}@example.org`, password, emailVerified: verified, givenName: 'Camille', familyName: 'Martin' });
      return { id: user.id, email: user.email, password };
    },
    async inbox(to, kind) {
      await f.server.sesame.afterResponse.settled(); // reset requests are handled after their answer
      await untilMailSent(prisma);
      const mails = sg.requests.map((request) => readMail(request.body));
      for (const mail of mails) keep(mail.link, mail.token);
      return mails.filter((mail) => mail.to.toLowerCase() === to.toLowerCase() && (!kind || mail.kind === kind));
    },
    keep,
    secretsInLogs() {
      // Codes, states and link tokens as the browsers carried them; what Google handed out.
      for (const browser of browsers) {
        for (const { url } of browser.trail) for (const [name, value] of new URL(url).searchParams) if (['code', 'state', 'token'].includes(name)) keep(value);
      }
      keep(...google.issued);
      expect(google.issued.length, 'the stand-in handed out no code or token: nothing was checked').toBeGreaterThan(0);
      const logs = f.server.logs.join('\n');
      return [...secrets].filter((secret) => logs.includes(secret)).map((secret) => `${secret.slice(0, 8)}…`);
    },
    async stop() {
      await f.stop();
      await sg.close();
      await google.close();
    },
  };
}

/** Opens the first-party app's sign-in in `browser`: the login page of a new flow. */
export async function openSignIn(h: Federation, browser: Browser, params: Record<string, string> = {}): Promise<{ flow: Flow; page: Page }> {
  const flow = await beginSignIn(h.intranet, INTRANET_CB, params);
  return { flow, page: await browser.open(flow.url) };
}

/** Presses "Continue with Google" on `page`; at the stand-in, `who` signs in (or cancels). */
export function continueWithGoogle(h: Federation, browser: Browser, page: Page, who: GoogleAccount | 'cancel'): Promise<Page> {
  h.google.next = who;
  return browser.submit(page, {}, { selector: 'form[action$="/federated/google"]' });
}

/** A new sign-in to the first-party app, through Google as `who`: the flow, and the page it ends on. */
export async function signInWithGoogle(h: Federation, browser: Browser, who: GoogleAccount | 'cancel', params: Record<string, string> = {}) {
  const { flow, page } = await openSignIn(h, browser, params);
  return { flow, page: await continueWithGoogle(h, browser, page, who) };
}

/**
 * For a browser that does not follow redirects to Google: presses "Continue with Google" and
 * lets `who` sign in there, and returns the URL Google sends the browser back to, not yet opened.
 */
export async function callbackFromGoogle(h: Federation, browser: Browser, page: Page, who: GoogleAccount): Promise<string> {
  h.google.next = who;
  const atGoogle = await browser.submit(page, {}, { selector: 'form[action$="/federated/google"]' });
  expect(atGoogle.stoppedAt).toMatch(new RegExp(`^${h.google.issuer}/`));
  // Google's own pages (and cookies) are not Sésame's business: a separate jar is enough.
  const back = await new Browser(h.google.issuer).open(atGoogle.stoppedAt!);
  expect(back.stoppedAt).toMatch(new RegExp(`^${h.f.issuer}/interaction/callback/google\\?`));
  h.keep(new URL(back.stoppedAt!).searchParams.get('code'));
  return back.stoppedAt!;
}

/** What the app gets for a sign-in that came back to it: the tokens (kept as secrets). */
export async function tokensFor(h: Federation, flow: Flow, page: Page) {
  expect(page.stoppedAt, `the sign-in did not return to the app; last page ${page.url} (${page.status}):\n${page.body.slice(0, 1500)}`).toMatch(/^https:\/\/rp\.example\.test\/intranet\/cb\?.*code=/);
  h.keep(new URL(page.stoppedAt!).searchParams.get('code'));
  const tokens = await redeem(h.intranet, flow, page.stoppedAt!);
  h.keep(tokens.access_token, tokens.refresh_token, tokens.id_token);
  return tokens;
}

/** The account a sign-in through Google as `who` ends in (it must go all the way). */
export async function subjectViaGoogle(h: Federation, browser: Browser, who: GoogleAccount): Promise<string> {
  const { flow, page } = await signInWithGoogle(h, browser, who);
  return (await tokensFor(h, flow, page)).claims()!.sub;
}

export const alertOf = (page: Page) => page.doc.querySelector('[role="alert"]')?.text.trim();

/** The login page of a sign-in, showing `message`, and no way back to the app. */
export function expectLoginPageSaying(page: Page, message: string | undefined): void {
  expect(page.stoppedAt, 'the sign-in went back to the app').toBeUndefined();
  expect(page.status, page.body.slice(0, 500)).toBe(200);
  expect(heading(page)).toBe(SAYS.signIn);
  expect(alertOf(page)).toBe(message);
}



