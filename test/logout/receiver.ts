// A relying app's back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0 §2.5): a
// loopback HTTP server taking `logout_token` form posts, each verified with jose against the
// provider's published keys as an app would, and recorded with the path it came to.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { expect } from 'vitest';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutRequest {
  /** The path it was posted to: which app. */
  path: string;
  contentType: string | undefined;
  token: string;
  /** The token's claims, unverified (for filtering; verify() checks them). */
  claims: JWTPayload;
}

export interface LogoutReceiver {
  /** http://127.0.0.1:port (append a path per app). */
  url: string;
  received: LogoutRequest[];
  /** The status to answer each request with (default 200). */
  answer: (request: LogoutRequest) => number;
  /** What came to `path` for `sub`. */
  to(path: string, sub: string): LogoutRequest[];
  close(): Promise<void>;
}

export async function startLogoutReceiver(): Promise<LogoutReceiver> {
  const receiver: LogoutReceiver = {
    url: '',
    received: [],
    answer: () => 200,
    to: (path, sub) => receiver.received.filter((request) => request.path === path && request.claims.sub === sub),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token') ?? '';
    let claims: JWTPayload = {};
    try {
      claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JWTPayload;
    } catch {}
    const request = { path: req.url ?? '', contentType: req.headers['content-type'], token, claims };
    const status = receiver.answer(request);
    // Only what the app accepted counts as received.
    if (status === 200) receiver.received.push(request);
    res.statusCode = status;
    res.end();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/**
 * Verifies a logout token as §2.6 asks an app to: signature by the issuer's published keys, iss,
 * aud, iat, jti, the back-channel event, sub or sid, and no nonce; typ logout+jwt (§2.4).
 */
export async function verifyLogoutToken(token: string, { issuer, jwksUri, clientId }: { issuer: string; jwksUri: string; clientId: string }): Promise<JWTPayload> {
  const keys = createRemoteJWKSet(new URL(jwksUri));
  const { payload, protectedHeader } = await jwtVerify(token, keys, { issuer, audience: clientId, typ: 'logout+jwt', requiredClaims: ['iat', 'jti', 'sub', 'sid', 'events'] });
  expect(protectedHeader.typ).toBe('logout+jwt');
  expect(decodeProtectedHeader(token).alg).toMatch(/^(RS256|ES256|EdDSA)$/);
  expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
  expect(payload).not.toHaveProperty('nonce');
  expect(typeof payload.jti).toBe('string');
  return payload;
}

/** Polls `check` until it holds (at most `seconds`). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, seconds = 30): Promise<void> {
  const until = performance.now() + seconds * 1000;
  while (!(await check())) {
    if (performance.now() > until) expect.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
