// Debian's Chromium driven by playwright-core (a browser is never downloaded). Each launch gets
// a fresh profile directory, deleted on close, and reaches nothing the test did not open: no
// background networking, QUIC, sync, component updates or first-run pages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';

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
      timeout: 30_000,
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
