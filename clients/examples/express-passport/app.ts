// An Express app signing people in with Passport and openid-client's strategy: sessions in
// express-session, a profile page, and a sign-out that ends the Sésame session too.
import express from 'express';
import type { Request, Response, NextFunction } from 'express';
import session from 'express-session';
import passport from 'passport';
import * as client from 'openid-client';
import { Strategy } from 'openid-client/passport';

/** What the app keeps about the person in its session. */
interface Person {
  sub: string;
  email?: string;
  name?: string;
  idToken?: string;
}

export interface Config {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Signs the session cookie. */
  sessionSecret: string;
  /** Where the app is reached, e.g. http://localhost:3002. */
  baseUrl: string;
}

// Plain http only for a Sésame on this machine (`npm start`); any other issuer must be https.
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export async function createApp(config: Config) {
  const issuer = new URL(config.issuer);
  const oidc = await client.discovery(issuer, config.clientId, config.clientSecret, undefined, {
    execute: LOOPBACK.has(issuer.hostname) ? [client.allowInsecureRequests] : [],
  });

  passport.use(
    new Strategy(
      { name: 'sesame', config: oidc, scope: 'openid profile email', callbackURL: `${config.baseUrl}/auth/callback` },
      (tokens, verified) => {
        const claims = tokens.claims()!;
        const person: Person = { sub: claims.sub, email: claims.email as string, name: claims.name as string, idToken: tokens.id_token };
        verified(null, person);
      },
    ),
  );
  // The whole user lives in the session (a real app would keep its id and load the rest).
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Person, done) => done(null, user));

  const app = express();
  app.use(session({ secret: config.sessionSecret, resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto' } }));
  app.use(passport.authenticate('session'));

  const requireSignIn = (req: Request, res: Response, next: NextFunction) => (req.user ? next() : res.redirect('/login'));

  app.get('/', (req, res) => {
    res.send(page('Welcome', req.user ? '<p><a href="/profile">Your profile</a></p>' : '<p><a id="sign-in" href="/login">Sign in</a></p>'));
  });

  app.get('/login', passport.authenticate('sesame'));
  app.get('/auth/callback', passport.authenticate('sesame', { successRedirect: '/profile', failureRedirect: '/' }));

  app.get('/profile', requireSignIn, (req, res) => {
    const user = req.user as Person;
    res.send(
      page(
        'Your profile',
        `<dl><dt>E-mail</dt><dd id="email">${escape(user.email ?? '')}</dd><dt>Name</dt><dd id="name">${escape(user.name ?? '')}</dd></dl>
        <form method="post" action="/logout"><button id="sign-out">Sign out</button></form>`,
      ),
    );
  });

  // End the app's session, then Sésame's (RP-Initiated Logout); Sésame asks the person to confirm.
  app.post('/logout', requireSignIn, (req, res, next) => {
    const { idToken } = req.user as Person;
    req.logout((error) => {
      if (error) return next(error);
      const params: Record<string, string> = { post_logout_redirect_uri: `${config.baseUrl}/` };
      if (idToken) params.id_token_hint = idToken;
      res.redirect(client.buildEndSessionUrl(oidc, params).href);
    });
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
  const { ISSUER, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, PORT = '3002', BASE_URL = `http://localhost:${PORT}` } = process.env;
  if (!ISSUER || !CLIENT_ID || !CLIENT_SECRET || !SESSION_SECRET) throw new Error('set ISSUER, CLIENT_ID, CLIENT_SECRET and SESSION_SECRET');
  const app = await createApp({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, sessionSecret: SESSION_SECRET, baseUrl: BASE_URL });
  app.listen(Number(PORT), () => console.log(`Passport example on ${BASE_URL}`));
}
