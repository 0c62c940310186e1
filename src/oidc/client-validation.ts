// Validates client metadata with oidc-provider's own client schema, so that the admin CLI refuses
// at registration what the provider would refuse at sign-in time.
import type { AdapterPayload } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { ProviderKeySet } from './keys.ts';
import { createProvider } from './provider.ts';
import { ClientError } from '../clients/registry.ts';

const unused = async () => {
  throw new Error('not used for validation');
};

export function createClientMetadataValidator(config: Config, jwks: ProviderKeySet['jwks']) {
  const provider = createProvider({
    config,
    jwks,
    adapter: () => {
      throw new Error('not used for validation');
    },
    cookieKeys: ['validation-only'],
    findAccount: async () => undefined,
    apis: { find: async () => undefined },
    rememberedConsent: unused,
    pages: { renderError: unused, logoutSource: unused, postLogoutSuccessSource: unused },
  });
  return async (metadata: AdapterPayload) => {
    try {
      await provider.Client.validate(metadata as Parameters<typeof provider.Client.validate>[0]);
    } catch (error) {
      const description = (error as { error_description?: string }).error_description;
      throw new ClientError(description ?? (error as Error).message);
    }
  };
}
