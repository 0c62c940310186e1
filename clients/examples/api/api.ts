// An API (a resource server) that accepts Sésame's JWT access tokens (RFC 9068) on its own: the
// signature against the keys Sésame publishes, then issuer, audience (this API's id), type and
// expiry; then the scope each route needs, and for one route a role.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';

export interface Config {
  issuer: string;
  /** This API's id, as registered in Sésame; tokens must name it as their audience. */
  audience: string;
}

interface AccessToken extends JWTPayload {
  client_id: string;
  scope?: string;
  roles?: string[];
}

export async function createApp(config: Config) {
  const discovery = await fetch(new URL('.well-known/openid-configuration', `${config.issuer}/`));
  const { jwks_uri } = (await discovery.json()) as { jwks_uri: string };
  // Fetched once, cached, and fetched again when a token names a key it does not know (rotation).
  const jwks = createRemoteJWKSet(new URL(jwks_uri));

  async function verify(req: IncomingMessage): Promise<AccessToken | undefined> {
    const [scheme, token] = req.headers.authorization?.split(' ') ?? [];
    if (scheme?.toLowerCase() !== 'bearer' || !token) return undefined;
    try {
      const { payload } = await jwtVerify<AccessToken>(token, jwks, { issuer: config.issuer, audience: config.audience, typ: 'at+jwt' });
      return payload;
    } catch {
      return undefined; // expired, another audience, an opaque token, a bad signature…
    }
  }

  const routes: Record<string, { scope: string; role?: string; handle(token: AccessToken): unknown }> = {
    '/orders': {
      scope: 'orders:read',
      handle: (token) => ({ caller: token.sub ?? token.client_id, orders: [{ id: 1, item: 'Coffee beans' }] }),
    },
    '/orders/report': {
      scope: 'orders:read',
      role: 'admin',
      handle: () => ({ total: 1 }),
    },
  };

  return async (req: IncomingMessage, res: ServerResponse) => {
    const route = routes[new URL(req.url ?? '/', 'http://api').pathname];
    if (!route || req.method !== 'GET') return send(res, 404, { error: 'not_found' });
    const token = await verify(req);
    // RFC 6750 §3: which problem it was, in WWW-Authenticate.
    if (!token) return send(res, 401, { error: 'invalid_token' }, 'Bearer error="invalid_token"');
    if (!token.scope?.split(' ').includes(route.scope)) {
      return send(res, 403, { error: 'insufficient_scope' }, `Bearer error="insufficient_scope", scope="${route.scope}"`);
    }
    // Roles come with a person's token when the app asked for the `roles` scope.
    if (route.role && !token.roles?.includes(route.role)) return send(res, 403, { error: 'forbidden' });
    send(res, 200, route.handle(token));
  };
}

function send(res: ServerResponse, status: number, body: unknown, challenge?: string) {
  res.writeHead(status, { 'content-type': 'application/json', ...(challenge ? { 'www-authenticate': challenge } : {}) });
  res.end(JSON.stringify(body));
}

if (import.meta.main) {
  const { ISSUER, AUDIENCE = 'https://api.example.test', PORT = '3004' } = process.env;
  if (!ISSUER) throw new Error('set ISSUER');
  createServer(await createApp({ issuer: ISSUER, audience: AUDIENCE })).listen(Number(PORT), () => console.log(`Orders API on http://localhost:${PORT}`));
}
