// Debian's Chromium driven by playwright-core (a browser is never downloaded). Each launch gets
// a fresh profile directory, deleted on close, and reaches nothing the test did not open: no
// background networking, QUIC, sync, component updates or first-run pages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { RP } from './fixture.ts';
import { discover } from './rp.ts';
import type { oidc } from './rp.ts';
import type { TestServer } from './server.ts';

export type { BrowserContext, Page };

export const CHROMIUM_PATH = '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  context: BrowserContext;
  /** The window the browser opened with. */
  page: Page;
  /** Closes the browser and deletes its profile; safe to call twice. */
  close(): Promise<void>;
}

/** `options` are the person's browser: locale, JavaScript on or off, viewport… */
export async function launchChromium(options: BrowserContextOptions = {}): Promise<Chromium> {
  // launchPersistentContext passes this directory as --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), 'sesame-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      chromiumSandbox: false,
      args: FLAGS,
      // Two test files run at once on two cores: a start can wait its turn well past 30 s
      // (seen in CI while the other file was busy); what is tested starts after it.
      timeout: 120_000,
      ...options,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  let closed: Promise<void> | undefined;
  return {
    context,
    page,
    close: () =>
      (closed ??= context
        .close()
        .finally(() => rmSync(profile, { recursive: true, force: true, maxRetries: 3 }))),
  };
}

/** A full-page screenshot in the OS temporary directory (never the repository); returns its path. */
export async function screenshot(page: Page, label: string): Promise<string> {
  const file = join(tmpdir(), `sesame-${label.replace(/[^\w-]+/g, '-')}-${Date.now()}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
  return file;
}

export const APP_NAME = 'Team Wiki';
/** Where the relying app receives sign-ins; the browser never loads it. */
export const CALLBACK = `${RP}/wiki/callback`;

export interface RelyingAppInChromium extends Chromium {
  /** The relying app's openid-client configuration (a confidential app that asks for consent). */
  app: oidc.Configuration;
  /** Every URL of the relying app the browser was sent to. */
  arrivals: string[];
  /** The bodies of the forms the browser posted to the relying app (response_mode=form_post). */
  posted: string[];
}

/**
 * A relying app registered on `server`, and a person's Chromium, without JavaScript (checked)
 * unless `javaScript` is set, whose trips back to the app are captured instead of loaded.
 */
export async function startRelyingAppInChromium(server: TestServer, { locale, javaScript = false }: { locale: string; javaScript?: boolean }): Promise<RelyingAppInChromium> {
  const { client, secret } = await server.sesame.clients.add({
    client_name: APP_NAME,
    redirect_uris: [CALLBACK],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    public: false,
    first_party: false,
  });
  const app = await discover(server.issuer, client.clientId, secret);
  const browser = await launchChromium({ locale, javaScriptEnabled: javaScript });
  const { page } = browser;
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  await page.setContent('<title>off</title><script>document.title = "on"</script>');
  if ((await page.title()) !== (javaScript ? 'on' : 'off')) throw new Error(`Chromium did not run page scripts as asked (JavaScript ${javaScript ? 'on' : 'off'})`);
  const arrivals: string[] = [];
  const posted: string[] = [];
  await page.route(`${RP}/**`, async (route) => {
    arrivals.push(route.request().url());
    if (route.request().method() === 'POST') posted.push(route.request().postData() ?? '');
    await route.fulfill({ status: 200, contentType: 'text/html', body: `<!doctype html><title>${APP_NAME}</title><p>Back at the app.</p>` });
  });
  return { ...browser, app, arrivals, posted };
}
