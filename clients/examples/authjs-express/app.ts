// An Express app signing people in with Auth.js and Sésame: the person's roles become
// `session.user.role` (ADMIN or MEMBER), an admin-only page, and a sign-out that also ends the
// Sésame session (OpenID Connect RP-Initiated Logout).
import express from 'express';
import type { Request, Response, NextFunction } from 'express';
import { ExpressAuth, getSession } from '@auth/express';
import type { ExpressAuthConfig } from '@auth/express';
import { getToken } from '@auth/core/jwt';

export type Role = 'ADMIN' | 'MEMBER';

// Auth.js's types with what this app adds: the role, and the ID token kept for the sign-out.
declare module '@auth/core/types' {
  interface User {
    role?: Role;
  }
  interface Session {
    user: { role: Role } & DefaultSession['user'];
  }
}
declare module '@auth/core/jwt' {
  interface JWT {
    role?: Role;
    idToken?: string;
  }
}

export interface Config {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Encrypts Auth.js's session cookie: 32 random bytes or more (`openssl rand -base64 32`). */
  authSecret: string;
  /** Where the app is reached, e.g. http://localhost:3001 (post-logout URI: this plus "/"). */
  baseUrl: string;
}

interface SesameProfile {
  sub: string;
  email?: string;
  name?: string;
  picture?: string;
  roles?: string[];
}

export async function createApp(config: Config) {
  // Where the sign-out goes: read once from Sésame's discovery document.
  const discovery = await fetch(new URL('.well-known/openid-configuration', `${config.issuer}/`));
  const { end_session_endpoint: endSession } = (await discovery.json()) as { end_session_endpoint: string };
  const signedOutUrl = `${config.baseUrl}/`;

  const authConfig: ExpressAuthConfig = {
    secret: config.authSecret,
    // Auth.js builds its URLs from the request's Host; set AUTH_URL instead where that is not safe.
    trustHost: true,
    providers: [
      {
        id: 'sesame',
        name: 'Sésame',
        type: 'oidc',
        issuer: config.issuer,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        authorization: { params: { scope: 'openid profile email roles' } },
        checks: ['pkce', 'state', 'nonce'],
        profile: (profile: SesameProfile) => ({
          id: profile.sub,
          email: profile.email,
          name: profile.name ?? profile.email,
          image: profile.picture,
          role: profile.roles?.includes('admin') ? 'ADMIN' : 'MEMBER',
        }),
      },
    ],
    callbacks: {
      // `user` and `account` are there only right after the sign-in.
      jwt({ token, user, account }) {
        if (user) token.role = user.role;
        if (account) token.idToken = account.id_token;
        return token;
      },
      session({ session, token }) {
        session.user.role = token.role ?? 'MEMBER';
        return session;
      },
      // Let the sign-out continue to Sésame's end_session_endpoint (only there, besides this app).
      redirect({ url, baseUrl }) {
        if (url.startsWith(`${endSession}?`)) return url;
        if (url.startsWith('/')) return `${baseUrl}${url}`;
        return new URL(url).origin === baseUrl ? url : baseUrl;
      },
    },
  };

  const app = express();
  app.use('/auth', ExpressAuth(authConfig));

  // Puts the session (or null) on res.locals for every page.
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    res.locals.session = await getSession(req, authConfig);
    next();
  });

  const requireAdmin = (_req: Request, res: Response, next: NextFunction) => {
    const { session } = res.locals;
    if (!session) return res.redirect('/auth/signin');
    if (session.user.role !== 'ADMIN') return res.status(403).send(page('Forbidden', '<p>Only admins may see this page.</p>'));
    next();
  };

  app.get('/', (_req, res) => {
    const { session } = res.locals;
    if (!session) return res.send(page('Welcome', '<p><a id="sign-in" href="/auth/signin">Sign in</a></p>'));
    res.send(
      page(
        'Welcome',
        `<p>Signed in as <span id="email">${escape(session.user.email ?? '')}</span>,
        role <strong id="role">${escape(session.user.role)}</strong>.</p>
        <p><a href="/admin">Admin area</a> · <a id="sign-out" href="/signout">Sign out</a></p>`,
      ),
    );
  });

  app.get('/admin', requireAdmin, (_req, res) => {
    res.send(page('Admin area', '<p id="admin">Only admins see this.</p>'));
  });

  // Sign out of the app (Auth.js's page asks to confirm, its form carries the CSRF token), then
  // of Sésame: Auth.js redirects to end_session_endpoint with the ID token as a hint.
  app.get('/signout', async (req, res) => {
    const token = await getToken({ req: { headers: { cookie: req.headers.cookie ?? '' } }, secret: config.authSecret, secureCookie: req.protocol === 'https' });
    if (!token?.idToken) return res.redirect('/auth/signout');
    const endSessionUrl = new URL(endSession);
    endSessionUrl.searchParams.set('id_token_hint', token.idToken);
    endSessionUrl.searchParams.set('post_logout_redirect_uri', signedOutUrl);
    res.redirect(`/auth/signout?${new URLSearchParams({ callbackUrl: endSessionUrl.href })}`);
  });

  return app;
}

function page(title: string, body: string) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

function escape(text: string) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

if (import.meta.main) {
  const { ISSUER, CLIENT_ID, CLIENT_SECRET, AUTH_SECRET, PORT = '3001', BASE_URL = `http://localhost:${PORT}` } = process.env;
  if (!ISSUER || !CLIENT_ID || !CLIENT_SECRET || !AUTH_SECRET) throw new Error('set ISSUER, CLIENT_ID, CLIENT_SECRET and AUTH_SECRET');
  const app = await createApp({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, authSecret: AUTH_SECRET, baseUrl: BASE_URL });
  app.listen(Number(PORT), () => console.log(`Auth.js example on ${BASE_URL}`));
}
