// A back end calling the Orders API for itself: a client-credentials token for that API (named
// with `resource`, RFC 8707), sent as a Bearer token.
import * as client from 'openid-client';

export interface CallerConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The API's id in Sésame (the token's audience). */
  audience: string;
  /** Where the API is reached. */
  apiUrl: string;
}

// Plain http only for a Sésame on this machine (`npm start`); any other issuer must be https.
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export async function fetchOrders(config: CallerConfig) {
  const issuer = new URL(config.issuer);
  const oidc = await client.discovery(issuer, config.clientId, config.clientSecret, undefined, {
    execute: LOOPBACK.has(issuer.hostname) ? [client.allowInsecureRequests] : [],
  });
  // A real back end keeps the token until shortly before `expires_in` runs out.
  const { access_token } = await client.clientCredentialsGrant(oidc, { scope: 'orders:read', resource: config.audience });
  const response = await fetch(new URL('/orders', config.apiUrl), { headers: { authorization: `Bearer ${access_token}` } });
  if (!response.ok) throw new Error(`the Orders API answered ${response.status}`);
  return response.json();
}

if (import.meta.main) {
  const { ISSUER, CLIENT_ID, CLIENT_SECRET, AUDIENCE = 'https://api.example.test', API_URL = 'http://localhost:3004' } = process.env;
  if (!ISSUER || !CLIENT_ID || !CLIENT_SECRET) throw new Error('set ISSUER, CLIENT_ID and CLIENT_SECRET');
  console.log(await fetchOrders({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, audience: AUDIENCE, apiUrl: API_URL }));
}
