// The flows the benchmark times, each turned into one load job for one target: what the
// requests are, and the tokens or codes they need, obtained before the clock starts.
import type { LoadJob } from './messages.ts';
import { basicAuth } from './targets.ts';
import type { ClientCredentials, Target } from './targets.ts';

export const FLOWS = ['discovery', 'jwks', 'client-credentials', 'introspection', 'userinfo', 'refresh', 'code', 'sign-ins', 'totp-sign-ins', 'passkey-sign-ins'] as const;
export type FlowName = (typeof FLOWS)[number];

export const FLOW_TITLES: Record<FlowName, string> = {
  discovery: 'Discovery (GET /.well-known/openid-configuration)',
  jwks: 'JWKS (GET jwks_uri)',
  'client-credentials': 'Client credentials (POST token, opaque access token)',
  introspection: 'Introspection (POST introspection, the client credentials token)',
  userinfo: 'Userinfo (GET userinfo, access token of a sign-in)',
  refresh: 'Refresh with rotation (POST token, each refresh token spent once)',
  code: 'Authorization code redemption (POST token, codes minted beforehand)',
  'sign-ins': 'Full sign-ins through the pages (authorize → login page → password → consent → code → token)',
  'totp-sign-ins': 'Sign-ins with a second factor (authorize → login page → password → authenticator app code → consent → code → token)',
  'passkey-sign-ins': 'Sign-ins with a passkey, no password (authorize → login page → passkey options → assertion → consent → code → token)',
};

/** Flows of people signing in through the pages (Sésame only), held against the argon2id limit. */
export const SIGN_IN_FLOWS = ['sign-ins', 'totp-sign-ins', 'passkey-sign-ins'] as const satisfies FlowName[];
export type SignInFlow = (typeof SIGN_IN_FLOWS)[number];
export const isSignInFlow = (flow: FlowName): flow is SignInFlow => (SIGN_IN_FLOWS as readonly FlowName[]).includes(flow);
/** The second factor (or passkey) each sign-in flow's people have. */
export const FLOW_FACTORS = { 'totp-sign-ins': 'totp', 'passkey-sign-ins': 'passkey' } as const;

/** The flows whose ratio to the bare engine the issue sets a target for. */
export const TOKEN_FLOWS: FlowName[] = ['client-credentials', 'introspection', 'userinfo', 'refresh', 'code'];

const FORM = 'application/x-www-form-urlencoded';

async function tokenRequest(target: Target, client: ClientCredentials, body: Record<string, string>) {
  const response = await fetch(target.endpoints.token, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': FORM },
    body: new URLSearchParams(body),
  });
  const answer = (await response.json()) as Record<string, string>;
  if (!response.ok) throw new Error(`${target.name}: token request refused: ${JSON.stringify(answer)}`);
  return answer;
}

async function redeemCodes(target: Target, count: number) {
  const codes = await target.mintCodes(count);
  return Promise.all(
    codes.map((code) => tokenRequest(target, target.app, { grant_type: 'authorization_code', code, redirect_uri: target.app.redirectUri, code_verifier: target.codeVerifier })),
  );
}

/** Prepares each flow's job for a target; remembers the tokens that can be used again. */
export function createJobMaker(target: Target) {
  let serviceToken: Promise<string> | undefined;
  let accessToken: Promise<string> | undefined;
  const service = { authorization: basicAuth(target.service), 'content-type': FORM };
  const app = { authorization: basicAuth(target.app), 'content-type': FORM };

  return async function job(flow: Exclude<FlowName, SignInFlow>, connections: number, duration: number, codeCount: number): Promise<LoadJob> {
    const timed = { connections, duration };
    switch (flow) {
      case 'discovery':
        return { kind: 'fixed', url: target.endpoints.discovery, method: 'GET', headers: {}, ...timed };
      case 'jwks':
        return { kind: 'fixed', url: target.endpoints.jwks, method: 'GET', headers: {}, ...timed };
      case 'client-credentials':
        return { kind: 'fixed', url: target.endpoints.token, method: 'POST', headers: service, body: 'grant_type=client_credentials', ...timed };
      case 'introspection':
        serviceToken ??= tokenRequest(target, target.service, { grant_type: 'client_credentials' }).then((answer) => answer.access_token!);
        return { kind: 'fixed', url: target.endpoints.introspection, method: 'POST', headers: service, body: `token=${await serviceToken}`, ...timed };
      case 'userinfo':
        accessToken ??= redeemCodes(target, 1).then(([answer]) => answer!.access_token!);
        return { kind: 'fixed', url: target.endpoints.userinfo, method: 'GET', headers: { authorization: `Bearer ${await accessToken}` }, ...timed };
      case 'refresh': {
        const tokens = (await redeemCodes(target, connections)).map((answer) => answer.refresh_token!);
        return { kind: 'refresh', url: target.endpoints.token, headers: app, tokens, ...timed };
      }
      case 'code': {
        const codes = await target.mintCodes(codeCount);
        return { kind: 'codes', url: target.endpoints.token, headers: app, codes, redirectUri: target.app.redirectUri, codeVerifier: target.codeVerifier, connections };
      }
    }
  };
}
