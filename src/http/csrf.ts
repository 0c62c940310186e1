// CSRF protection for every form we render: a random value in an HttpOnly, SameSite=Lax cookie,
// and in the form an HMAC of it. A POST whose token does not match its own browser's cookie is
// refused (interactions/guards.ts checks it on every form route; a POST from another origin was
// already refused at the edge, same-origin-posts.ts). The cookie is renewed at sign-in (login
// CSRF, session fixation).
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import { AppError } from './errors.ts';
import type { PurposeKey } from '../oidc/secrets.ts';

export interface Csrf {
  token(ctx: Koa.Context): string;
  verify(ctx: Koa.Context, submitted: unknown): void;
  renew(ctx: Koa.Context): void;
}

/** `key` signs with the active cookie key and accepts every kept one, so forms survive a rotation (oidc/secrets.ts). */
export function createCsrf({ key }: { key: PurposeKey }): Csrf {
  // Over https the __Host- prefix pins the cookie to this host and path "/" (browsers allow it
  // only with Secure). Which one a request uses follows the connection, as oidc-provider's do.
  const nameFor = (ctx: Koa.Context) => (ctx.secure ? '__Host-sesame-csrf' : 'sesame-csrf');
  const set = (ctx: Koa.Context) => {
    const value = randomBytes(18).toString('base64url');
    ctx.cookies.set(nameFor(ctx), value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true, signed: false });
    ctx.state.csrfCookie = value;
    return value;
  };
  const current = (ctx: Koa.Context): string | undefined => ctx.state.csrfCookie ?? ctx.cookies.get(nameFor(ctx), { signed: false });

  return {
    token: (ctx) => key.sign(current(ctx) ?? set(ctx)),
    verify(ctx, submitted) {
      const cookie = current(ctx);
      if (!cookie || typeof submitted !== 'string') throw new AppError('forbidden', 'missing CSRF token');
      if (!key.verify(cookie, submitted)) throw new AppError('forbidden', 'CSRF token mismatch');
    },
    renew: (ctx) => void set(ctx),
  };
}
