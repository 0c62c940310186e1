// The account page's own cookies, as any relying app keeps them: the sign-in it started (PKCE
// verifier, state, nonce, where to come back) and, once signed in, who it is. Both are sealed
// (AES-256-GCM: unreadable and unforgeable) under a key derived from the server's cookie keys,
// so they follow their rotation: sealed with the newest, opened with any key still kept.
// HttpOnly, SameSite=Lax, scoped to /account; Secure whenever the request is https.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type Koa from 'koa';
import { z } from 'zod';

const SESSION = 'sesame-account';
const FLOW = 'sesame-account-flow';
const LINK = 'sesame-account-link';
/** A sign-in started here and not finished within this time starts again. */
const FLOW_LIFETIME = 15 * 60;

const flowSchema = z.object({ verifier: z.string(), state: z.string(), nonce: z.string(), returnTo: z.string(), fresh: z.boolean(), startedAt: z.number() });
const sessionSchema = z.object({
  sub: z.string(),
  sid: z.string().optional(),
  /** The Sésame session's row (provider-rows.ts): "this device", "sign out my other sessions". */
  uid: z.string(),
  authTime: z.number(),
  amr: z.array(z.string()),
  exp: z.number(),
  /** For RP-initiated logout's id_token_hint. */
  idToken: z.string(),
});

const linkSchema = z.object({ uid: z.string(), provider: z.string(), startedAt: z.number() });

export type SignInFlow = z.infer<typeof flowSchema>;
export type AppSession = z.infer<typeof sessionSchema>;

const keyOf = (cookieKey: string) => Buffer.from(hkdfSync('sha256', Buffer.from(cookieKey, 'base64url'), Buffer.alloc(0), 'sesame account cookies', 32));
const now = () => Math.floor(Date.now() / 1000);

export function createAppSessionCookies({ cookieKeys }: { cookieKeys: () => string[] }) {
  const seal = (name: string, value: object) => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyOf(cookieKeys()[0]!), nonce);
    cipher.setAAD(Buffer.from(name));
    return Buffer.concat([nonce, cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  };
  const open = (name: string, sealed: string | undefined): unknown => {
    if (!sealed) return undefined;
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < 29) return undefined;
    for (const key of cookieKeys()) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', keyOf(key), bytes.subarray(0, 12));
        decipher.setAAD(Buffer.from(name));
        decipher.setAuthTag(bytes.subarray(-16));
        return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()]).toString('utf8'));
      } catch {
        // Sealed under another kept key, or not ours: try the next.
      }
    }
    return undefined;
  };
  const write = (ctx: Koa.Context, name: string, value: object | null, maxAgeSeconds = 0) =>
    ctx.cookies.set(name, value ? seal(name, value) : null, {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/account',
      overwrite: true,
      signed: false,
      ...(value ? { maxAge: maxAgeSeconds * 1000 } : {}),
    });

  return {
    startFlow(ctx: Koa.Context, flow: Omit<SignInFlow, 'startedAt'>) {
      write(ctx, FLOW, { ...flow, startedAt: now() }, FLOW_LIFETIME);
    },
    /** The sign-in under way in this browser, if it is not too old; it can be taken once. */
    takeFlow(ctx: Koa.Context): SignInFlow | null {
      const parsed = flowSchema.safeParse(open(FLOW, ctx.cookies.get(FLOW, { signed: false })));
      write(ctx, FLOW, null);
      return parsed.success && parsed.data.startedAt + FLOW_LIFETIME > now() ? parsed.data : null;
    },
    save(ctx: Koa.Context, session: AppSession) {
      write(ctx, SESSION, session, Math.max(1, session.exp - now()));
    },
    read(ctx: Koa.Context): AppSession | null {
      const parsed = sessionSchema.safeParse(open(SESSION, ctx.cookies.get(SESSION, { signed: false })));
      return parsed.success && parsed.data.exp > now() ? parsed.data : null;
    },
    clear(ctx: Koa.Context) {
      write(ctx, SESSION, null);
    },
    /** A link to an upstream account under way from this browser (linked.ts): the round trip's uid. */
    startLink(ctx: Koa.Context, link: { uid: string; provider: string }) {
      write(ctx, LINK, { ...link, startedAt: now() }, FLOW_LIFETIME);
    },
    takeLink(ctx: Koa.Context): { uid: string; provider: string } | null {
      const parsed = linkSchema.safeParse(open(LINK, ctx.cookies.get(LINK, { signed: false })));
      write(ctx, LINK, null);
      return parsed.success && parsed.data.startedAt + FLOW_LIFETIME > now() ? parsed.data : null;
    },
  };
}

export type AppSessionCookies = ReturnType<typeof createAppSessionCookies>;
