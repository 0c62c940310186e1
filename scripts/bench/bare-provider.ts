// The benchmark's yardstick: a bare oidc-provider of the version Sésame runs, with its in-memory
// adapter and the features Sésame enables (src/oidc/provider.ts), one confidential client and a
// findAccount that makes up the claims. Run as a child of scripts/bench.ts (fork, PORT and ISSUER
// in the environment); it mints authorization codes when the parent asks over the IPC channel,
// the way a sign-in through pages would leave them (a session, a grant, PKCE).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { BARE_CLIENT } from './messages.ts';
import type { MintRequest, MintResponse } from './messages.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;

function signingKeys(): JWK[] {
  const pairs = [
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['EdDSA', generateKeyPairSync('ed25519')],
  ] as const;
  return pairs.map(([alg, { privateKey }], index) => ({ ...(privateKey.export({ format: 'jwk' }) as JWK), alg, use: 'sig', kid: `bench-${index}` }));
}

// oidc-provider's own in-memory adapter, over a store larger than its default 1000 entries: a
// round mints and issues more than that, and evicted codes would count as the engine's errors.
// (Deep imports: the package publishes no types for them.)
const adapterModule: string = 'oidc-provider/lib/adapters/memory_adapter.js';
const storeModule: string = 'oidc-provider/lib/helpers/lru.js';
const { default: MemoryAdapter } = await import(adapterModule);
const { default: LRU } = await import(storeModule);
const store = new LRU({ maxSize: 10_000_000 });

const configuration: Configuration = {
  adapter: (model: string) => new MemoryAdapter(model, store),
  clients: [
    {
      client_id: BARE_CLIENT.client_id,
      client_secret: BARE_CLIENT.client_secret,
      redirect_uris: [BARE_CLIENT.redirect_uri],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: signingKeys() } as Configuration['jwks'],
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true, given_name: 'Bench', family_name: 'Mark', name: 'Bench Mark' }),
  }),
  cookies: { keys: [randomBytes(32).toString('base64url')], long: { httpOnly: true, sameSite: 'lax' }, short: { httpOnly: true, sameSite: 'lax' } },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'picture', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: { required: () => true },
  allowOmittingSingleRegisteredRedirectUri: false,
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
    userinfoSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
    introspectionSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
    authorizationSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    userinfo: { enabled: true },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    dPoP: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    registration: { enabled: false },
    requestObjects: { enabled: false },
    encryption: { enabled: false },
    // As in Sésame: no resource named, no API assumed, so client credentials stay opaque.
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      getResourceServerInfo: () => {
        throw new errors.InvalidTarget();
      },
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async (_ctx, code) => !code.scopes.has('offline_access'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: HOUR,
    AuthorizationCode: 600,
    ClientCredentials: 10 * 60,
    IdToken: HOUR,
    Interaction: HOUR,
    RefreshToken: 14 * DAY,
    Grant: 90 * DAY,
    Session: 12 * HOUR,
  },
};

const provider = new Provider(process.env.ISSUER!, configuration);
// oidc-provider's Session takes a payload, and a lifetime to save (its types say neither).
const Session = provider.Session as unknown as new (payload: object) => { uid: string; save(ttl: number): Promise<unknown> };

/** A person's session and grant, as a sign-in leaves them. */
async function signedInPerson(scope: string) {
  const accountId = 'bench-person';
  const grant = new provider.Grant({ accountId, clientId: BARE_CLIENT.client_id });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const session = new Session({
    accountId,
    loginTs: Math.floor(Date.now() / 1000),
    authorizations: { [BARE_CLIENT.client_id]: { grantId, sid: randomBytes(16).toString('base64url'), persistsLogout: false } },
  });
  await session.save(12 * HOUR);
  return { accountId, grantId, sessionUid: session.uid };
}

async function mintCodes({ count, scope, codeChallenge }: MintRequest): Promise<string[]> {
  const client = (await provider.Client.find(BARE_CLIENT.client_id))!;
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    // A sign-in of its own for each code: the in-memory adapter keeps a grant's tokens in one
    // list that it scans on every write, and thousands of codes on one grant would be the cost
    // measured. The code is built as the authorization endpoint builds it (the types ask for a
    // `gty` that codes do not have).
    const code = new provider.AuthorizationCode({
      client,
      ...(await signedInPerson(scope)),
      scope,
      // What a code from a sign-in without offline_access carries, as Sésame's do.
      expiresWithSession: true,
      authTime: Math.floor(Date.now() / 1000),
      redirectUri: BARE_CLIENT.redirect_uri,
      codeChallenge,
      codeChallengeMethod: 'S256',
    } as ConstructorParameters<typeof provider.AuthorizationCode>[0]);
    codes.push(await code.save());
  }
  return codes;
}

process.on('message', (request: MintRequest) => {
  mintCodes(request).then(
    (codes) => process.send!({ id: request.id, codes } satisfies MintResponse),
    (error: Error) => process.send!({ id: request.id, error: error.message } satisfies MintResponse),
  );
});

provider.listen(Number(process.env.PORT), '127.0.0.1', () => process.send!({ listening: true }));
