// The state of one round trip to an upstream provider: a random handle sent as OAuth `state`
// (and, hashed, as the OpenID Connect nonce), and the PKCE verifier, kept in a signed cookie that
// only this browser has and that only comes back under /interaction/:uid. The handle starts with
// the interaction uid, so the provider's fixed callback URL knows where to send the browser back.
// Used once, valid ten minutes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';

const COOKIE = 'sesame-upstream';
const MAX_AGE_MS = 10 * 60 * 1000;
const UID = /^[A-Za-z0-9_-]{1,64}$/;

interface Saved {
  handle: string;
  verifier: string;
  provider: string;
}

function cookieOptions(ctx: Koa.Context, uid: string) {
  return { path: `/interaction/${uid}`, httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, signed: true, overwrite: true };
}

/** A new state handle for the sign-in `uid`. */
export function newStateHandle(uid: string): string {
  return `${uid}.${randomBytes(24).toString('base64url')}`;
}

/** The OpenID Connect nonce of a round trip: derived from its state handle, which only this browser holds. */
export function nonceOf(handle: string): string {
  return createHash('sha256').update(`nonce:${handle}`).digest('base64url');
}

export function saveState(ctx: Koa.Context, uid: string, provider: string, verifier: string, handle: string): string {
  const value = Buffer.from(JSON.stringify({ handle, verifier, provider } satisfies Saved)).toString('base64url');
  ctx.cookies.set(COOKIE, value, { ...cookieOptions(ctx, uid), maxAge: MAX_AGE_MS });
  return handle;
}

/** The verifier saved with `handle`, once; undefined when the state is missing, foreign or used. */
export function takeState(ctx: Koa.Context, uid: string, provider: string, handle: unknown): string | undefined {
  const value = ctx.cookies.get(COOKIE, { signed: true });
  ctx.cookies.set(COOKIE, null, cookieOptions(ctx, uid));
  if (!value || typeof handle !== 'string') return undefined;
  let saved: Saved;
  try {
    saved = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Saved;
  } catch {
    return undefined;
  }
  const same = Buffer.byteLength(saved.handle) === Buffer.byteLength(handle) && timingSafeEqual(Buffer.from(saved.handle), Buffer.from(handle));
  return same && saved.provider === provider ? saved.verifier : undefined;
}

/** The sign-in a state handle belongs to (for the provider's fixed callback URL). */
export function interactionOfState(handle: unknown): string | undefined {
  if (typeof handle !== 'string') return undefined;
  const uid = handle.split('.')[0];
  return uid && UID.test(uid) ? uid : undefined;
}
