// What the passkey tests share: Sésame named `localhost` in ISSUER (a WebAuthn relying-party id
// is a domain, never an IP address; Chromium treats http://localhost as a secure context), a
// relying app registered on it (openid-client, its loopback callback a real listener that
// records where the browser arrived), and a tab of one Chromium per file with JavaScript on and
// Chromium's virtual authenticator (DevTools protocol, WebAuthn domain) standing in for the
// person's device: it answers every ceremony itself, the person's presence and verification
// simulated. (A caught navigation, page.route, is not reliably caught after a ceremony: the app
// listens for real.)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { CDPSession } from 'playwright-core';
import { expect } from 'vitest';
import type { Chromium, Page } from '../support/chromium.ts';
import { beginSignIn, discover, oidc, redeem } from '../support/rp.ts';
import type { Flow } from '../support/rp.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore } from '../support/stores.ts';
import type { StoreKind, TestStore } from '../support/stores.ts';

export const PASSWORD = 'lantern river cobalt';

export interface Authenticator {
  id: string;
  /** The credentials it holds (ids base64url, as Sésame stores them). */
  credentials(): Promise<{ id: string; signCount: number; isResidentCredential: boolean }[]>;
  remove(): Promise<void>;
}

export interface PasskeyWorld {
  store: TestStore;
  server: TestServer;
  app: oidc.Configuration;
  page: Page;
  cdp: CDPSession;
  /** Every URL of the app the tab was sent to. */
  arrivals: string[];
  callback: string;
  /** Every form or fetch the tab posted to Sésame: path and body. */
  posts: { path: string; body: string }[];
  /** The path of every request the tab made to Sésame (pages, assets, forms, fetches). */
  requested: string[];
  /** The Content-Security-Policy of every page Sésame sent the tab. */
  policies: string[];
  stop(): Promise<void>;
}

/** One store's Sésame, an app on it, and a fresh tab of `chromium` (no cookies of another store's run). */
export async function startWorld(kind: StoreKind, chromium: Chromium, env: Record<string, string> = {}): Promise<PasskeyWorld> {
  const arrivals: string[] = [];
  const listener: Server = createServer((request, response) => {
    arrivals.push(new URL(request.url ?? '/', callback).href);
    response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Team Notes</title><p>Back at the app.</p>');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const callback = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/callback`;
  const store = await createTestStore(kind);
  const server = await startServer(store, env, { issuerHost: 'localhost' });
  const { client, secret } = await server.sesame.clients.add({
    client_name: 'Team Notes',
    redirect_uris: [callback],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    public: false,
    first_party: true,
    // An app on the developer's machine: its callback is a loopback listener.
    development: true,
  });
  const app = await discover(server.issuer, client.clientId, secret);
  // Both stores' servers are `localhost`: cookies do not tell ports apart.
  await chromium.context.clearCookies();
  const page = await chromium.context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(20_000);
  const posts: { path: string; body: string }[] = [];
  const requested: string[] = [];
  const policies: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(`${server.issuer}/`)) return;
    requested.push(new URL(request.url()).pathname);
    if (request.method() === 'POST') posts.push({ path: new URL(request.url()).pathname, body: request.postData() ?? '' });
  });
  page.on('response', (response) => {
    if (response.url().startsWith(`${server.issuer}/`) && response.request().resourceType() === 'document' && response.status() === 200) policies.push(response.headers()['content-security-policy'] ?? '');
  });
  const cdp = await chromium.context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  return {
    store,
    server,
    app,
    page,
    cdp,
    arrivals,
    callback,
    posts,
    requested,
    policies,
    async stop() {
      await page.close().catch(() => {});
      listener.closeAllConnections();
      await new Promise((resolve) => listener.close(resolve));
      await server.stop();
      await store.dispose();
    },
  };
}

/**
 * A device with a platform authenticator that verifies its user: a security key in Sésame's
 * terms (hwk), or, with `synced`, a passkey backed up to the person's cloud (swk).
 */
export async function addAuthenticator(cdp: CDPSession, { synced = false } = {}): Promise<Authenticator> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      defaultBackupEligibility: synced,
      defaultBackupState: synced,
    },
  });
  return {
    id: authenticatorId,
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials.map((credential) => ({
        id: Buffer.from(credential.credentialId, 'base64').toString('base64url'),
        signCount: credential.signCount,
        isResidentCredential: credential.isResidentCredential,
      }));
    },
    remove: async () => {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
  };
}

/** The app sends the tab to Sésame's authorization endpoint. */
export async function openSignIn(world: PasskeyWorld, params: Record<string, string> = {}): Promise<Flow> {
  const flow = await beginSignIn(world.app, world.callback, params);
  await world.page.goto(flow.url);
  return flow;
}

/** Waits for the tab to be back at the app, then redeems the code as the app: the ID token's claims. */
export async function backAtApp(world: PasskeyWorld, flow: Flow) {
  const state = `state=${flow.state}`;
  await world.page.waitForURL((url) => url.href.startsWith(world.callback) && url.href.includes(state));
  expect(world.arrivals.filter((url) => url.includes(state))).toHaveLength(1);
  const tokens = await redeem(world.app, flow, world.arrivals.find((url) => url.includes(state))!);
  return tokens.claims()!;
}

export async function signInWithPassword(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The passkey rows of an account, as stored. */
export async function storedPasskeys(world: PasskeyWorld, userId: string) {
  return world.server.db.prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
}

/** The challenges spent so far (a page drawn writes none; a passkey used writes its own). */
export const spentChallenges = (world: PasskeyWorld) => world.server.db.prisma.webauthnChallenge.count();

/**
 * What a page with passkeys must never need: a request for a ceremony's options (they are in the
 * page) and a CSP that lets scripts fetch (`connect-src`): every page seen so far.
 */
export function expectOptionsInThePage(world: PasskeyWorld): void {
  expect(world.requested.filter((path) => /options/.test(path))).toEqual([]);
  expect(world.policies.length).toBeGreaterThan(0);
  for (const policy of world.policies) {
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain('connect-src');
  }
}

/** Presses Chromium's virtual authenticator into answering (the person touches it) or not. */
export async function presence(world: PasskeyWorld, authenticator: Authenticator, present: boolean): Promise<void> {
  await world.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: authenticator.id, enabled: present });
}

/** The sign-in's id, from the address of its page. */
export const interactionOf = (page: Page) => /\/interaction\/([\w-]+)/.exec(page.url())?.[1] ?? '';

/** The text of every security-change notice in the development outbox, oldest first. */
export function securityMails(world: PasskeyWorld): string[] {
  const dir = world.server.config.mail.outboxDir;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('-security-change.txt'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'));
}

/** Whether the page's script is in a ceremony (@simplewebauthn/browser holds its abort controller then). */
export const ceremonyUnderWay = (page: Page) =>
  page.evaluate(() => Boolean((window as unknown as { SimpleWebAuthnBrowser?: { WebAuthnAbortService: { controller?: unknown } } }).SimpleWebAuthnBrowser?.WebAuthnAbortService.controller));

/** A new visit: no Sésame session, no account-page session, nothing loading. */
export async function freshVisit(world: PasskeyWorld): Promise<void> {
  await world.page.goto('about:blank');
  await world.page.context().clearCookies();
}

/**
 * Signs in to the account page's security section with the password, and with a passkey of
 * `authenticator` when the account asks for a second factor (`secondFactor`).
 */
export async function openSecurityPage(world: PasskeyWorld, authenticator: Authenticator, email: string, { secondFactor = false } = {}): Promise<void> {
  const { page } = world;
  await freshVisit(world);
  await presence(world, authenticator, false);
  await page.goto(`${world.server.issuer}/account/security?lang=en`);
  await signInWithPassword(page, email);
  if (secondFactor) {
    await page.getByRole('heading', { level: 1, name: 'Confirm it is you', exact: true }).waitFor();
    await presence(world, authenticator, true);
    await page.getByRole('button', { name: 'Use a passkey', exact: true }).click();
  }
  await page.locator('#passkeys-heading').waitFor();
}
