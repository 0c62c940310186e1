// What every self-service suite needs: the real server with its e-mail going to a loopback
// SendGrid stand-in, browsers that each come from an address of their own (so that one test's
// per-address limits never spill into another's), the inbox as people read it, and a record of
// every secret the suite handled, to prove at the end that none of them reached the logs.
import { request as httpRequest } from 'node:http';
import { parse } from 'node-html-parser';
import { expect } from 'vitest';
import type { Env } from '../../src/config.ts';
import type { Prisma } from '../../src/db/database.ts';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, oidc, redeem, signIn } from '../support/rp.ts';
import type { Flow } from '../support/rp.ts';
import { readMail, startSendGridStandIn, untilMailSent } from '../support/sendgrid-stand-in.ts';
import type { Mail, SendGridStandIn } from '../support/sendgrid-stand-in.ts';
import type { StoreKind } from '../support/stores.ts';
import { click, heading } from '../support/pages.ts';
export { heading, csrfOf, click, masked, refreshOutcome } from '../support/pages.ts';

export { RP };
export type { Mail };
export const INTRANET_CB = `${RP}/intranet/cb`;


export interface Account {
  id: string;
  email: string;
  password: string;
}

export interface Harness {
  f: Fixture;
  sg: SendGridStandIn;
  prisma: Prisma;
  /** The first-party app (no consent page) and the third-party one. */
  intranet: oidc.Configuration;
  web: oidc.Configuration;
  /** A fresh browser, arriving from an address no other browser of this suite uses. */
  browser(headers?: Record<string, string>): Browser;
  /** Its address, as sent in X-Forwarded-For (which counts only with TRUST_PROXY=true). */
  addressOf(browser: Browser): string;
  /** A new account, made the way the admin CLI makes them. */
  account(options?: { verified?: boolean; names?: boolean; password?: string; label?: string }): Promise<Account>;
  /** Waits until every queued e-mail has reached the stand-in, then returns what `to` received. */
  inbox(to: string, kind?: string): Promise<Mail[]>;
  /** The newest message of `kind` to `to` (fails if there is none). */
  latest(to: string, kind: string): Promise<Mail>;
  /** Every secret seen so far: passwords typed, links and tokens received, tokens issued. */
  keep(...values: (string | null | undefined)[]): void;
  secrets: Set<string>;
  stop(): Promise<void>;
}

export const MAIL_ENV = (sg: SendGridStandIn): Env => ({
  SENDGRID_API_KEY: 'SG.self-service-stand-in-key',
  MAIL_FROM: 'Sésame <no-reply@example.com>',
  SENDGRID_API_URL: sg.url,
  MAIL_RETRY_DELAY: '1',
});


export async function startHarness(kind: StoreKind, env: Env = {}): Promise<Harness> {
  const sg = await startSendGridStandIn();
  const f = await startFixture(kind, { ...MAIL_ENV(sg), ...env });
  const prisma = f.server.db.prisma;
  const secrets = new Set<string>([MAIL_ENV(sg).SENDGRID_API_KEY!]);
  const keep = (...values: (string | null | undefined)[]) => values.forEach((value) => value && value.length >= 8 && secrets.add(value));
  const addresses = new WeakMap<Browser, string>();
  let browsers = 0;
  let accounts = 0;

  const inbox = async (to: string, kind?: string) => {
    await f.server.sesame.afterResponse.settled(); // reset requests are handled after their answer
    await untilMailSent(prisma);
    const mails = sg.requests.map((request) => readMail(request.body)).filter((mail) => mail.to.toLowerCase() === to.toLowerCase() && (!kind || mail.kind === kind));
    for (const mail of mails) keep(mail.link, mail.token);
    return mails;
  };

  return {
    f,
    sg,
    prisma,
    intranet: await discover(f.issuer, f.firstParty.id, f.firstParty.secret),
    web: await discover(f.issuer, f.web.id, f.web.secret),
    browser(headers = {}) {
      browsers++;
      const address = `10.${(browsers >> 8) & 255}.${browsers & 255}.${1 + (browsers % 250)}`;
      const browser = new Browser(f.issuer, { 'x-forwarded-for': address, ...headers });
      addresses.set(browser, address);
      return browser;
    },
    addressOf: (browser) => addresses.get(browser)!,
    async account({ verified = true, names = true, password, label = 'person' } = {}) {
      accounts++;
      const email = `${label}-${accounts}@example.com`;
      const chosen = password ?? `quiet harbour lantern ${accounts} cobalt`;
      keep(chosen);
      const user = await f.server.sesame.users.create({
        email,
        password: chosen,
        emailVerified: verified,
        ...(names ? { givenName: 'Camille', familyName: 'Martin' } : {}),
      });
      return { id: user.id, email, password: chosen };
    },
    inbox,
    async latest(to, kind) {
      const mail = (await inbox(to, kind)).at(-1);
      expect(mail, `no ${kind} message to ${to}`).toBeDefined();
      return mail!;
    },
    keep,
    secrets,
    async stop() {
      await f?.stop();
      await sg.close();
    },
  };
}

/** Opens the first-party app's sign-in in `browser`: the login page of a new flow. */
export async function openSignIn(h: Harness, browser: Browser, params: Record<string, string> = {}): Promise<{ flow: Flow; page: Page }> {
  const flow = await beginSignIn(h.intranet, INTRANET_CB, params);
  const page = await browser.open(flow.url);
  return { flow, page };
}

/** Signs in to the first-party app all the way and redeems the code, as the app does. */
export async function signInForTokens(h: Harness, browser: Browser, email: string, password: string, params: Record<string, string> = {}) {
  const flow = await beginSignIn(h.intranet, INTRANET_CB, params);
  h.keep(password);
  const callback = await signIn(browser, flow, email, password);
  const tokens = await redeem(h.intranet, flow, callback);
  h.keep(tokens.access_token, tokens.refresh_token, tokens.id_token);
  return tokens;
}

/** Fills in the registration form of a new sign-in (names, address, password). */
export async function register(h: Harness, browser: Browser, fields: { email: string; password: string; given_name?: string; family_name?: string }): Promise<Page> {
  h.keep(fields.password);
  const { page } = await openSignIn(h, browser);
  const form = await click(browser, page, 'a[href$="/register"]');
  return browser.submit(form, { given_name: 'Zoé', family_name: 'Durand', ...fields });
}

/**
 * What the sign-in page makes of these credentials in a new sign-in: "wrong" (the login page
 * again, 401), "too many" (429), "signed in" (back at the app), or the heading of the next step.
 */
export async function trySignIn(h: Harness, browser: Browser, email: string, password: string): Promise<string> {
  h.keep(password);
  const { page } = await openSignIn(h, browser);
  const next = await browser.submit(page, { email, password });
  if (next.status === 401) return 'wrong';
  if (next.status === 429) return 'too many';
  return next.stoppedAt ? 'signed in' : heading(next)!;
}





/** Headers that may differ between two identical answers. */
export function comparableHeaders(page: Page): Record<string, string> {
  const headers = Object.fromEntries(page.headers);
  delete headers.date;
  delete headers['content-length'];
  delete headers['x-request-id'];
  return headers;
}

/**
 * A form POST as a hand-made request: exactly `fields` (nothing taken from a form), with the
 * browser's cookies, and any headers, Host included (fetch cannot set Host, so node:http).
 */
export async function rawPost(browser: Browser, url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
  const body = Buffer.from(new URLSearchParams(fields).toString());
  const cookie = await browser.jar.getCookieString(url);
  const target = new URL(url);
  const response = await new Promise<{ status: number; headers: Headers; body: string }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        headers: {
          ...browser.headers,
          origin: target.origin,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(body.length),
          ...(cookie ? { cookie } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) out.append(name, one);
          }
          resolve({ status: res.statusCode!, headers: out, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  for (const header of response.headers.getSetCookie()) await browser.jar.setCookie(header, url, { ignoreError: true });
  return { url, status: response.status, headers: response.headers, body: response.body, doc: parse(response.body) };
}


/** The last test of every suite: nothing it handled in secret was ever written to the logs. */
export function expectNoSecretsInLogs(h: Harness): void {
  const logs = h.f.server.logs.join('\n');
  expect(h.secrets.size).toBeGreaterThan(0);
  for (const secret of h.secrets) expect(logs.includes(secret), `the logs mention ${secret.slice(0, 6)}…`).toBe(false);
}
