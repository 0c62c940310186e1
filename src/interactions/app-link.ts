// Where a "Back to {client}" link leads from a page that ends a sign-in or a sign-out: a page
// of the app itself, taken from what the app registered, never from the request. Its first
// post-logout redirect URI (the page it shows people who signed out), else, for a web app, the
// origin of its first redirect URI. A native app has no such page: no link, the text says to
// go back to it.
import type Provider from 'oidc-provider';

export interface AppLink {
  name: string;
  href: string;
}

type RegisteredClient = Pick<InstanceType<Provider['Client']>, 'clientId' | 'clientName' | 'applicationType' | 'redirectUris' | 'postLogoutRedirectUris'>;

export function appLink(client: RegisteredClient | undefined): AppLink | undefined {
  if (!client) return undefined;
  const name = client.clientName ?? client.clientId;
  const signedOutPage = client.postLogoutRedirectUris?.[0];
  if (signedOutPage) return { name, href: signedOutPage };
  const redirect = client.applicationType === 'web' ? client.redirectUris?.[0] : undefined;
  if (!redirect) return undefined;
  const { protocol, origin } = new URL(redirect);
  return protocol === 'https:' || protocol === 'http:' ? { name, href: `${origin}/` } : undefined;
}

/** The app a sign-in was for, from its interaction (found by its id, whichever browser asks). */
export async function appOfInteraction(provider: Provider, uid: unknown): Promise<AppLink | undefined> {
  if (typeof uid !== 'string' || !/^[\w-]{1,64}$/.test(uid)) return undefined;
  const interaction = await provider.Interaction.find(uid);
  const clientId = interaction?.params.client_id;
  return typeof clientId === 'string' ? appLink(await provider.Client.find(clientId)) : undefined;
}
