// What every admin command works with: the same settings and database as the server. With the
// embedded store, the CLI connects to the running server's database, or opens it itself when
// no server runs.
import { loadConfig, readEnvironment } from '../../src/config.ts';
import type { Config } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import type { Prisma } from '../../src/db/database.ts';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { createUserService } from '../../src/accounts/users.ts';
import { createClientRegistry } from '../../src/clients/registry.ts';
import { createKeyStore, providerKeySet } from '../../src/oidc/keys.ts';
import { createSealer } from '../../src/oidc/sealing.ts';
import { createClientMetadataValidator } from '../../src/oidc/client-validation.ts';
import { currentActor, recordAudit } from '../../src/audit.ts';
import { createConsentStore } from '../../src/accounts/consents.ts';
import { createApiRegistry } from '../../src/apis/registry.ts';
import { createWebhookStores } from '../../src/webhooks/index.ts';

export interface AdminContext {
  config: Config;
  prisma: Prisma;
  users: ReturnType<typeof createUserService>;
  clients: ReturnType<typeof createClientRegistry>;
  keys: ReturnType<typeof createKeyStore>;
  consents: ReturnType<typeof createConsentStore>;
  apis: ReturnType<typeof createApiRegistry>;
  webhooks: ReturnType<typeof createWebhookStores>;
  audit(action: string, target: string, details?: object): Promise<void>;
}

/** Runs `task` with an open context and always closes the database afterwards. */
export async function withContext<T>(task: (context: AdminContext) => Promise<T>): Promise<T> {
  const config = loadConfig(readEnvironment());
  const db = await openDatabase(config.database, { migrate: true, attach: true, poolSize: 2 });
  try {
    const sealer = createSealer(config.secretsEncryptionKey, config.previousSecretsEncryptionKey);
    const keys = createKeyStore(db.prisma, sealer);
    await keys.ensure();
    const { jwks } = providerKeySet(await keys.list(), new Date(), config.ttl.idToken);
    const actor = currentActor();
    return await task({
      config,
      prisma: db.prisma,
      users: createUserService(db.prisma, createPasswordHasher(config.argon2), { defaultRoles: config.roles.defaults }),
      clients: createClientRegistry(db.prisma, { cacheTtlSeconds: 0, validateMetadata: createClientMetadataValidator(config, jwks) }),
      keys,
      consents: createConsentStore(db.prisma),
      apis: createApiRegistry(db.prisma, { cacheTtlSeconds: 0 }),
      webhooks: createWebhookStores({ prisma: db.prisma, config, sealer }),
      audit: (action, target, details) => recordAudit(db.prisma, { actor, action, target, details }),
    });
  } finally {
    await db.close();
  }
}
