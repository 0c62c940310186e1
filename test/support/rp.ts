// The relying app's side of every protocol test: openid-client, a certified RP library,
// configured with nothing but the issuer URL, a client id and (for confidential apps) a secret.
import * as oidc from 'openid-client';
import { expect } from 'vitest';
import type { Browser, Page } from './browser.ts';

export { oidc };

export async function discover(issuer: string, clientId: string, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, secret, secret ? undefined : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface Flow {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
  redirectUri: string;
}

export async function beginSignIn(config: oidc.Configuration, redirectUri: string, params: Record<string, string> = {}): Promise<Flow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = params.state ?? oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url: url.href, verifier, state, nonce, redirectUri };
}

/** Opens the authorization URL, signs in on the login page, and answers the consent page. */
export async function signIn(browser: Browser, flow: Flow, email: string, password: string, consent: 'allow' | 'deny' = 'allow'): Promise<string> {
  let page: Page = await browser.open(flow.url);
  if (page.doc.querySelector('input[name="password"]')) {
    page = await browser.submit(page, { email, password });
  }
  if (!page.stoppedAt && page.doc.querySelector('button[name="decision"]')) {
    page = await browser.submit(page, {}, { button: { name: 'decision', value: consent } });
  }
  expect(page.stoppedAt, `sign-in did not return to the app; last page ${page.url} (${page.status}):\n${page.body.slice(0, 2000)}`).toBeDefined();
  return page.stoppedAt!;
}

export async function redeem(config: oidc.Configuration, flow: Flow, callback: string) {
  return oidc.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
  });
}

/** The OAuth error of a rejected openid-client call. */
export async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { error?: string; code?: string }).error ?? (error as Error).message;
  }
  throw new Error('expected the call to fail');
}
