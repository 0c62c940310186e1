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
import { signingKeyPolicy } from '../../src/oidc/key-life.ts';
import { createSealer } from '../../src/oidc/sealing.ts';
import { createClientMetadataValidator } from '../../src/oidc/client-validation.ts';
import { adminActor, createAuditTrail } from '../../src/audit/trail.ts';
import type { AuditTrail } from '../../src/audit/trail.ts';
import { createConsentStore } from '../../src/accounts/consents.ts';
import { createFederatedAccounts } from '../../src/accounts/federated-accounts.ts';
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
  /** Sign-ins at upstream providers (Google) linked to accounts. */
  federated: ReturnType<typeof createFederatedAccounts>;
  /** Records a change in the audit trail, as the admin running the CLI ("admin:<login>@<host>"). */
  audit(action: string, target: string, details?: Record<string, unknown>): Promise<void>;
  /** The trail itself, for services that record what they do (consents withdrawn, identities unlinked). */
  trail: AuditTrail;
}

/**
 * The account or app a change is about, for `audit list --user/--client`: the target of users
 * and clients commands (not of `users import`, whose target is the file).
 */
function subjectOf(action: string, target: string) {
  if (action.startsWith('client.')) return { clientId: target };
  if (action.startsWith('user.') && action !== 'user.import') return { userId: target };
  return {};
}

/** Runs `task` with an open context and always closes the database afterwards. */
export async function withContext<T>(task: (context: AdminContext) => Promise<T>): Promise<T> {
  const config = loadConfig(readEnvironment());
  // The server's timeouts: a command against a database that does not answer fails instead of hanging.
  const { connectTimeoutSeconds, statementTimeoutSeconds } = config.databasePool;
  const db = await openDatabase(config.database, { migrate: true, attach: true, poolSize: 2, connectTimeoutSeconds, statementTimeoutSeconds });
  try {
    const sealer = createSealer(config.secretsEncryptionKey, config.previousSecretsEncryptionKey);
    const keys = createKeyStore(db.prisma, sealer);
    await keys.ensure();
    const { jwks } = providerKeySet(await keys.list(), new Date(), signingKeyPolicy(config).retention);
    const failures: unknown[] = [];
    const trail = createAuditTrail({ prisma: db.prisma, actor: adminActor(), onError: (error) => failures.push(error) });
    const users = createUserService(db.prisma, createPasswordHasher(config.argon2), { defaultRoles: config.roles.defaults, audit: trail });
    const result = await task({
      config,
      prisma: db.prisma,
      users,
      clients: createClientRegistry(db.prisma, { cacheTtlSeconds: 0, validateMetadata: createClientMetadataValidator(config, jwks), production: config.env === 'production' }),
      keys,
      consents: createConsentStore(db.prisma, trail),
      apis: createApiRegistry(db.prisma, { cacheTtlSeconds: 0 }),
      webhooks: createWebhookStores({ prisma: db.prisma, config, sealer }),
      federated: createFederatedAccounts({ prisma: db.prisma, users, audit: trail }),
      audit: (action, target, details) => trail.write({ action, target, details, ...subjectOf(action, target) }),
      trail,
    });
    // A change made but not recorded is a failure of the command.
    await trail.settled();
    if (failures.length) throw failures[0];
    return result;
  } finally {
    await db.close();
  }
}
