// clients/examples/authjs-express against a running Sésame: sign-in through Auth.js, the role
// in the app's session, the admin-only page, and a sign-out that ends the Sésame session too.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../clients/examples/authjs-express/app.ts';
import { Browser } from '../support/browser.ts';
import type { Page } from '../support/browser.ts';
import { createPerson, openPort, PASSWORD, registerExample, startSesame } from './harness.ts';
import type { Harness } from './harness.ts';

describe('example: Auth.js (Express)', () => {
  let sesame: Harness;
  let app: Awaited<ReturnType<typeof openPort>>;

  beforeAll(async () => {
    sesame = await startSesame();
    app = await openPort();
    const { clientId, secret } = await registerExample(sesame.server, 'authjs-express', app.origin);
    app.serve(await createApp({ issuer: sesame.issuer, clientId, clientSecret: secret!, authSecret: randomBytes(32).toString('base64'), baseUrl: app.origin }));
    await createPerson(sesame.server, 'ada@example.com', ['admin', 'member']);
    await createPerson(sesame.server, 'bob@example.com', ['member']);
  });

  afterAll(async () => {
    await app?.stop();
    await sesame?.stop();
  });

  function newBrowser() {
    const browser = new Browser(sesame.issuer);
    browser.alsoFollows.push(app.origin);
    return browser;
  }

  /** Opens Auth.js's sign-in page and presses "Sign in with Sésame"; returns where that lands. */
  async function startSignIn(browser: Browser): Promise<Page> {
    const providers = await browser.open(`${app.origin}/auth/signin`);
    return browser.submit(providers, {}, { selector: `form[action$="/auth/signin/sesame"]` });
  }

  async function signIn(browser: Browser, email: string): Promise<Page> {
    const welcome = await browser.open(`${app.origin}/`);
    expect(welcome.doc.querySelector('#sign-in')?.getAttribute('href')).toBe('/auth/signin');
    const login = await startSignIn(browser);
    expect(login.url.startsWith(sesame.issuer), `expected Sésame's login page, got ${login.url}:\n${login.body.slice(0, 1000)}`).toBe(true);
    const home = await browser.submit(login, { email, password: PASSWORD });
    expect(home.url).toBe(`${app.origin}/`);
    return home;
  }

  const text = (page: Page, selector: string) => page.doc.querySelector(selector)?.text.trim();

  it('maps an admin to role ADMIN and lets them into the admin area', async () => {
    const browser = newBrowser();
    const home = await signIn(browser, 'ada@example.com');
    expect(text(home, '#email')).toBe('ada@example.com');
    expect(text(home, '#role')).toBe('ADMIN');
    const admin = await browser.open(`${app.origin}/admin`);
    expect(admin.status).toBe(200);
    expect(admin.doc.querySelector('#admin')).toBeTruthy();
  });

  it('maps a member to role MEMBER and keeps them out of the admin area', async () => {
    const browser = newBrowser();
    const home = await signIn(browser, 'bob@example.com');
    expect(text(home, '#role')).toBe('MEMBER');
    expect((await browser.open(`${app.origin}/admin`)).status).toBe(403);
  });

  it('signs out of the app and of Sésame: the next sign-in asks for the password again', async () => {
    const browser = newBrowser();
    await signIn(browser, 'ada@example.com');
    // Without signing out, Sésame's session lets the person straight back in.
    const again = await startSignIn(browser);
    expect(again.url).toBe(`${app.origin}/`);
    expect(text(again, '#role')).toBe('ADMIN');

    const home = await browser.open(`${app.origin}/`);
    const confirmApp = await browser.open(new URL(home.doc.querySelector('#sign-out')!.getAttribute('href')!, app.origin).href);
    expect(confirmApp.url.startsWith(`${app.origin}/auth/signout`)).toBe(true);
    const confirmSesame = await browser.submit(confirmApp, {});
    expect(confirmSesame.url.startsWith(sesame.issuer), `expected Sésame's sign-out page, got ${confirmSesame.url}:\n${confirmSesame.body.slice(0, 1000)}`).toBe(true);
    const back = await browser.submit(confirmSesame, {}, { button: { name: 'logout', value: 'yes' } });
    expect(back.url).toBe(`${app.origin}/`);
    expect(back.doc.querySelector('#sign-in')).toBeTruthy();
    expect((await browser.open(`${app.origin}/admin`)).url).toContain('/auth/signin');

    const login = await startSignIn(browser);
    expect(login.url.startsWith(sesame.issuer)).toBe(true);
    expect(login.doc.querySelector('input[name="password"]')).toBeTruthy();
  });
});
