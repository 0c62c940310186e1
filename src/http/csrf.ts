// CSRF protection for every form we render: a random value in an HttpOnly, SameSite=Lax cookie,
// and in the form an HMAC of it. A POST whose token does not match its own browser's cookie, or
// that comes from another origin, is refused. The cookie is renewed at sign-in (login CSRF,
// session fixation).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { AppError } from './errors.ts';

export interface Csrf {
  token(ctx: Koa.Context): string;
  verify(ctx: Koa.Context, submitted: unknown): void;
  renew(ctx: Koa.Context): void;
}

export function createCsrf({ key, issuer }: { key: Buffer; issuer: string }): Csrf {
  // Over https the __Host- prefix pins the cookie to this host and path "/" (browsers allow it
  // only with Secure). Which one a request uses follows the connection, as oidc-provider's do.
  const nameFor = (ctx: Koa.Context) => (ctx.secure ? '__Host-sesame-csrf' : 'sesame-csrf');
  const origin = new URL(issuer).origin;
  const sign = (value: string) => createHmac('sha256', key).update(value).digest('base64url');
  const set = (ctx: Koa.Context) => {
    const value = randomBytes(18).toString('base64url');
    ctx.cookies.set(nameFor(ctx), value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true, signed: false });
    ctx.state.csrfCookie = value;
    return value;
  };
  const current = (ctx: Koa.Context): string | undefined => ctx.state.csrfCookie ?? ctx.cookies.get(nameFor(ctx), { signed: false });

  return {
    token: (ctx) => sign(current(ctx) ?? set(ctx)),
    verify(ctx, submitted) {
      const requestOrigin = ctx.get('Origin');
      if (requestOrigin && requestOrigin !== 'null' && requestOrigin !== origin) throw new AppError('forbidden', 'cross-origin form post');
      const cookie = current(ctx);
      if (!cookie || typeof submitted !== 'string') throw new AppError('forbidden', 'missing CSRF token');
      const expected = Buffer.from(sign(cookie));
      const actual = Buffer.from(submitted);
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new AppError('forbidden', 'CSRF token mismatch');
    },
    renew: (ctx) => void set(ctx),
  };
}
