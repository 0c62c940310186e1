// Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
// has signed in to an account with its password gets a signed cookie saying so. When it signs in
// to that account again, the per-account slow-down does not apply to it (its own failures are
// limited per cookie instead, http/rate-limits.ts), so nobody can keep an owner out of their
// account by guessing wrong passwords elsewhere.
//
// One HttpOnly, SameSite=Lax cookie holds a few entries, one per account signed in from this
// browser, newest first. An entry is issue time, a random id and an HMAC over both and the
// account's normalised address: it names no account, and only the address typed at sign-in
// can make it match.
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import type { PurposeKey } from '../oidc/secrets.ts';

const LIFETIME_SECONDS = 180 * 24 * 3600;
/** Cookie keys are kept this long after they stop signing (server.ts), so device cookies outlive a rotation. */
export const DEVICE_COOKIE_LIFETIME = LIFETIME_SECONDS;
/** Accounts remembered per browser; the oldest entry goes first. */
const MAX_ENTRIES = 5;
const ENTRY = /^([0-9a-z]{1,10})\.([\w-]{16})\.([\w-]{43})$/;

export interface DeviceCookies {
  /** The id of this browser's valid device cookie for the account `emailKey`, if it has one. */
  recognise(ctx: Koa.Context, emailKey: string): string | undefined;
  /** After a successful password sign-in: a fresh entry for the account, and its id. */
  remember(ctx: Koa.Context, emailKey: string): string;
}

/** `key` signs with the active cookie key and accepts every kept one (oidc/secrets.ts). */
export function createDeviceCookies({ key }: { key: PurposeKey }): DeviceCookies {
  // Over https the __Host- prefix pins the cookie to this host and path "/", as for CSRF.
  const nameFor = (ctx: Koa.Context) => (ctx.secure ? '__Host-sesame-device' : 'sesame-device');
  const signed = (emailKey: string, issued: string, id: string) => `${emailKey}\n${issued}\n${id}`;

  const entries = (ctx: Koa.Context): string[] => (ctx.cookies.get(nameFor(ctx), { signed: false }) ?? '').split('~').filter(Boolean).slice(0, MAX_ENTRIES);
  const matching = (entry: string, emailKey: string): string | undefined => {
    const [, issued, id, signature] = ENTRY.exec(entry) ?? [];
    if (!issued || !id || !signature) return undefined;
    if (Date.now() / 1000 - parseInt(issued, 36) > LIFETIME_SECONDS) return undefined;
    return key.verify(signed(emailKey, issued, id), signature) ? id : undefined;
  };

  return {
    recognise(ctx, emailKey) {
      for (const entry of entries(ctx)) {
        const id = matching(entry, emailKey);
        if (id) return id;
      }
      return undefined;
    },
    remember(ctx, emailKey) {
      const issued = Math.floor(Date.now() / 1000).toString(36);
      const id = randomBytes(12).toString('base64url');
      const fresh = `${issued}.${id}.${key.sign(signed(emailKey, issued, id))}`;
      const others = entries(ctx).filter((entry) => ENTRY.test(entry) && !matching(entry, emailKey));
      ctx.cookies.set(nameFor(ctx), [fresh, ...others].slice(0, MAX_ENTRIES).join('~'), {
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.secure,
        path: '/',
        maxAge: LIFETIME_SECONDS * 1000,
        overwrite: true,
        signed: false,
      });
      return id;
    },
  };
}
