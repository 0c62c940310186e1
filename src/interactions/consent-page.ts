// What the consent page tells the person. Everything the app will hold once allowed, not only
// what it never had: a request with prompt=consent, or one that adds a scope, lists what was
// allowed before too, marked so (oidc-provider's prompt details name only what is missing). Who
// is signed in, with a way to sign in as someone else; and whether the answer is remembered.
import type Provider from 'oidc-provider';
import type { Interaction } from './interaction.ts';
import type { Translate } from '../i18n/index.ts';
import type { ApiRegistry } from '../apis/registry.ts';
import type { UserService } from '../accounts/users.ts';

/** The OpenID scopes a person reads about, in the order they are listed. */
const DESCRIBED_SCOPES = ['openid', 'profile', 'email', 'roles', 'offline_access'] as const;

export interface ConsentItem {
  text: string;
  /** Allowed before: the app holds it already, and keeps it whatever the answer is now. */
  allowedBefore: boolean;
}

type Grant = InstanceType<Provider['Grant']>;

const words = (value: unknown) => (typeof value === 'string' ? value.split(' ').filter(Boolean) : []);

/** What the app receives when allowed: what its grant holds and what is missing, of what it asks. */
async function itemsOf(details: Interaction, grant: Grant | undefined, apis: Pick<ApiRegistry, 'find'>, t: Translate): Promise<ConsentItem[]> {
  const asked = new Set(words(details.params.scope));
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  const isNew = new Set(missing.missingOIDCScope ?? []);
  const held = new Set(words(grant?.getOIDCScope()));
  // "Know who you are" is always listed: an app that signs a person in learns who they are.
  const items = DESCRIBED_SCOPES.filter((scope) => scope === 'openid' || (asked.has(scope) && (held.has(scope) || isNew.has(scope)))).map((scope) => ({
    text: t(`scope.${scope}`),
    allowedBefore: held.has(scope) && !isNew.has(scope),
  }));

  // One line per API named with `resource` for what it held before, one for what is new.
  const indicators = new Set([...[details.params.resource].flat(), ...Object.keys(missing.missingResourceScopes ?? {})].filter((value) => typeof value === 'string'));
  for (const indicator of indicators) {
    const fresh = new Set(missing.missingResourceScopes?.[indicator] ?? []);
    const before = new Set(words(grant?.getResourceScope(indicator)));
    const scopes = [...asked].filter((scope) => fresh.has(scope) || before.has(scope));
    if (scopes.length === 0) continue;
    const api = (await apis.find(indicator))?.name ?? indicator;
    for (const allowedBefore of [true, false]) {
      const group = scopes.filter((scope) => fresh.has(scope) !== allowedBefore);
      if (group.length) items.push({ text: t('scope.api', { api, scopes: group.join(', ') }), allowedBefore });
    }
  }
  return items;
}

// Bound to the person who was asked, or used by the new request itself.
const NOT_CARRIED_OVER = new Set(['login_hint', 'id_token_hint', 'request', 'request_uri', 'prompt']);

/**
 * "Not you?": the same authorization request again with prompt=login, a plain link (no
 * JavaScript). Whoever signs in next replaces the person signed in (oidc-provider asks to sign
 * the first one out, src/interactions/provider-pages.ts), and the app gets its answer as usual.
 */
export function switchAccountHref(params: Interaction['params']): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (NOT_CARRIED_OVER.has(name)) continue;
    for (const item of [value].flat()) if (typeof item === 'string') query.append(name, item);
  }
  const prompts = new Set(words(params.prompt).filter((prompt) => prompt !== 'none')).add('login');
  query.set('prompt', [...prompts].join(' '));
  return `/auth?${query}`;
}

export async function consentPageModel(details: Interaction, provider: Provider, deps: { users: UserService; apis: Pick<ApiRegistry, 'find'> }, t: Translate) {
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const user = details.session?.accountId ? await deps.users.findById(details.session.accountId) : null;
  const client = await provider.Client.find(details.params.client_id as string);
  const name = [user?.givenName, user?.familyName].filter(Boolean).join(' ');
  return {
    items: await itemsOf(details, grant, deps.apis, t),
    signedInAs: user ? (name ? t('consent.signed-in-as-named', { email: user.email, name }) : t('consent.signed-in-as', { email: user.email })) : undefined,
    switchAccount: switchAccountHref(details.params),
    // First-party apps are never asked (src/oidc/existing-grant.ts) unless they insist: nothing to remember.
    remembered: client?.metadata().first_party !== true,
  };
}
