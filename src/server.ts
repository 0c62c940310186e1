// The composition root: builds Sésame's object graph once, from settings and an open database.
// main.ts runs it; the tests build the very same graph with their own settings.
import type Koa from 'koa';
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import type { Logger } from './log.ts';
import { createApp } from './app.ts';
import { createPasswordHasher } from './accounts/passwords.ts';
import { createUserService } from './accounts/users.ts';
import type { UserService } from './accounts/users.ts';
import { createClientRegistry } from './clients/registry.ts';
import type { ClientRegistry } from './clients/registry.ts';
import { createApiRegistry } from './apis/registry.ts';
import type { ApiRegistry } from './apis/registry.ts';
import { createCsrf } from './http/csrf.ts';
import { createViews } from './http/views.ts';
import { createProviderPages } from './interactions/provider-pages.ts';
import { createAdapterFactory, deleteExpiredPayloads } from './oidc/adapter.ts';
import { createFindAccount } from './oidc/account.ts';
import { createProviderHost } from './oidc/host.ts';
import type { ProviderHost } from './oidc/host.ts';
import { createKeyStore } from './oidc/keys.ts';
import type { KeyStore } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { loadServerSecrets } from './oidc/secrets.ts';
import { createSealer } from './oidc/sealing.ts';
import { createInteractionPolicy } from './oidc/policy.ts';
import { createOneTimeTokens } from './accounts/one-time-tokens.ts';
import { createSelfService } from './accounts/self-service.ts';
import { createRateLimiter } from './http/rate-limits.ts';
import { createMailer } from './mail/index.ts';
import { createConnectors } from './federation/index.ts';
import { createPendingSeal } from './federation/pending.ts';
import { createFederatedAccounts } from './accounts/federated-accounts.ts';
import type { Mailer } from './mail/index.ts';
import { createConsentStore } from './accounts/consents.ts';
import { createWebhooks } from './webhooks/index.ts';
import type { Webhooks } from './webhooks/index.ts';
import { withSessionEvents } from './oidc/session-events.ts';
import { createUserChanges } from './accounts/user-changes.ts';

/** How long delivered and abandoned e-mail stays recorded (recipient, subject, status). */
const MAIL_KEPT_DAYS = 30;
/** How long events stay for `webhooks replay` once nothing waits to deliver them. */
const WEBHOOK_EVENTS_KEPT_DAYS = 30;

export interface Sesame {
  app: Koa;
  mailer: Mailer;
  host: ProviderHost;
  users: UserService;
  clients: ClientRegistry;
  /** The APIs (resource servers) access tokens are issued for. */
  apis: ApiRegistry;
  keys: KeyStore;
  /** Webhook endpoints and the delivery worker (tests: addEndpoint, deliverDue). */
  webhooks: Webhooks;
  /** Deletes expired provider rows and retired keys; also runs every CLEANUP_INTERVAL. */
  cleanup(): Promise<void>;
  /** Starts listening; resolves with the bound address. */
  listen(port?: number, hostname?: string): Promise<{ server: Server; url: string }>;
  /** Stops background jobs and the HTTP server (not the database, which the caller opened). */
  close(): Promise<void>;
}

export async function createSesame({ config, db, log }: { config: Config; db: Database; log: Logger }): Promise<Sesame> {
  const { prisma } = db;
  const sealer = createSealer(config.secretsEncryptionKey, config.previousSecretsEncryptionKey);
  if (!sealer.sealing && config.env === 'production') {
    log.warn('SECRETS_ENCRYPTION_KEY is not set: private signing keys and cookie keys are stored unencrypted in the database');
  }
  const secrets = await loadServerSecrets(prisma, sealer);
  const keys = createKeyStore(prisma, sealer);
  const created = await keys.ensure();
  if (created.length) log.info({ kids: created }, 'generated signing keys');
  const sealed = await keys.sealStored();
  if (sealed) log.info({ keys: sealed }, 'encrypted signing keys stored before SECRETS_ENCRYPTION_KEY was set');

  const passwords = createPasswordHasher(config.argon2);
  const users = createUserService(prisma, passwords, { defaultRoles: config.roles.defaults });
  const clients = createClientRegistry(prisma, { cacheTtlSeconds: config.clientCacheTtl });
  // On the token path too: cached like clients, so a change reaches every replica as quickly.
  const apis = createApiRegistry(prisma, { cacheTtlSeconds: config.clientCacheTtl });
  const tokens = createOneTimeTokens(prisma);
  const limits = createRateLimiter(prisma);
  const mailer = createMailer({ prisma, config, log });
  const webhooks = createWebhooks({ prisma, config, log, sealer });
  const sealedHooks = await webhooks.endpoints.sealStored();
  if (sealedHooks) log.info({ endpoints: sealedHooks }, 'encrypted webhook secrets stored before SECRETS_ENCRYPTION_KEY was set or under the previous key');
  if (mailer.transport === 'outbox') log.warn({ outbox: config.mail.outboxDir }, 'e-mail is not delivered: SENDGRID_API_KEY is not set, messages are written to the outbox');
  const selfService = createSelfService({ prisma, users, passwords, tokens, mailer, issuer: config.issuer });
  const policy = createInteractionPolicy({ users, allowUnverifiedEmail: config.allowUnverifiedEmailSignIn });
  const connectors = createConnectors(config);
  const federated = createFederatedAccounts({ prisma, users });
  const pendingLinks = createPendingSeal(secrets.derive('pending-link'));
  const views = createViews({ brandName: config.brandName, cache: config.env === 'production' });
  const csrf = createCsrf({ key: secrets.derive('csrf'), issuer: config.issuer });
  const pages = createProviderPages(views, log);
  const adapter = createAdapterFactory(prisma, clients);
  const findAccount = createFindAccount(users);
  const consents = createConsentStore(prisma);
  const userChanges = createUserChanges(prisma, { settleSeconds: config.usersFeedSettle });

  const host = await createProviderHost({
    keys,
    idTokenTtl: config.ttl.idToken,
    refreshIntervalSeconds: config.keyRefreshInterval,
    log,
    build: (jwks) =>
      withSessionEvents(createProvider({
        config,
        policy,
        adapter,
        jwks,
        cookieKeys: secrets.cookieKeys,
        findAccount,
        apis,
        rememberedConsent: consents.find,
        pages,
        onServerError: (ctx, error) => log.error({ err: error, requestId: ctx.state.requestId, path: ctx.path }, 'provider error'),
      }), prisma, log),
  });

  const app = createApp({
    issuer: config.issuer,
    trustProxy: config.trustProxy,
    cookieKeys: secrets.cookieKeys,
    log,
    views,
    csrf,
    users,
    selfService,
    tokens,
    limits,
    connectors,
    federated,
    pendingLinks,
    consents,
    apis,
    host,
    clients,
    userChanges,
    healthy: async () => (await prisma.$queryRaw<{ ok: number }[]>`SELECT 1 AS ok`).length === 1,
  });

  const cleanup = async () => {
    const deleted = {
      payloads: await deleteExpiredPayloads(prisma),
      retiredKeys: await keys.pruneRetired(new Date(), config.ttl.idToken),
      tokens: await tokens.deleteExpired(),
      rateLimits: await limits.deleteStale(),
      mail: await mailer.deleteDelivered(MAIL_KEPT_DAYS),
      webhookEvents: await webhooks.deleteFinished(WEBHOOK_EVENTS_KEPT_DAYS),
    };
    if (Object.values(deleted).some(Boolean)) log.info(deleted, 'deleted expired rows');
  };
  mailer.start();
  webhooks.start();
  const cleanupTimer = setInterval(() => {
    cleanup().catch((error) => log.error({ err: error }, 'cleanup failed'));
  }, config.cleanupInterval * 1000);
  cleanupTimer.unref();

  let server: Server | undefined;
  return {
    app,
    mailer,
    host,
    users,
    clients,
    apis,
    keys,
    webhooks,
    cleanup,
    async listen(port = config.port, hostname = config.host) {
      server = createHttpServer(app.callback());
      // Keep idle connections open a little longer than typical load balancers (60 s).
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, hostname, () => resolve());
      });
      const { port: bound } = server.address() as AddressInfo;
      return { server, url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${bound}` };
    },
    async close() {
      clearInterval(cleanupTimer);
      host.stop();
      await mailer.stop();
      await webhooks.stop();
      if (server) {
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}
