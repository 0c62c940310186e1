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
import { createDeviceCookies, DEVICE_COOKIE_LIFETIME } from './http/device-cookies.ts';
import { createAfterResponse } from './http/after-response.ts';
import type { AfterResponse } from './http/after-response.ts';
import { createViews } from './http/views.ts';
import { createProviderPages } from './interactions/provider-pages.ts';
import { createAdapterFactory, deleteExpiredPayloads } from './oidc/adapter.ts';
import { createFindAccount } from './oidc/account.ts';
import { createProviderHost } from './oidc/host.ts';
import type { ProviderHost } from './oidc/host.ts';
import { createKeyStore } from './oidc/keys.ts';
import { signingKeyPolicy } from './oidc/key-life.ts';
import type { KeyStore } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { loadServerSecrets } from './oidc/secrets.ts';
import type { ServerSecrets } from './oidc/secrets.ts';
import { createSealer } from './oidc/sealing.ts';
import { createInteractionPolicy } from './oidc/policy.ts';
import { createOneTimeTokens } from './accounts/one-time-tokens.ts';
import { createSelfService } from './accounts/self-service.ts';
import { createRateLimiter } from './http/rate-limits.ts';
import { createMailer } from './mail/index.ts';
import { createConnectors } from './federation/index.ts';
import { createPendingSeal } from './federation/pending.ts';
import { createFederatedAccounts } from './accounts/federated-accounts.ts';
import { createPasskeys } from './accounts/passkeys.ts';
import { createTotp } from './accounts/totp.ts';
import { createRecoveryCodes } from './accounts/recovery-codes.ts';
import { createFactors } from './accounts/factors.ts';
import { createSignIn } from './accounts/sign-in.ts';
import type { Mailer } from './mail/index.ts';
import { createConsentStore } from './accounts/consents.ts';
import { createWebhooks } from './webhooks/index.ts';
import type { Webhooks } from './webhooks/index.ts';
import { withSessionEvents } from './oidc/session-events.ts';
import { createBackchannelLogouts } from './oidc/backchannel-logout.ts';
import type { BackchannelLogouts } from './oidc/backchannel-logout.ts';
import { createUserChanges } from './accounts/user-changes.ts';
import { createAuditTrail } from './audit/trail.ts';
import type { AuditTrail } from './audit/trail.ts';
import { deleteOldAuditEvents } from './audit/history.ts';
import { currentRequest } from './http/request-context.ts';
import { createMetrics } from './observability/metrics.ts';
import { countingAuditTrail } from './observability/audit-counts.ts';
import { observeProvider } from './observability/provider-events.ts';
import { readMigrationsList } from './db/migrations.ts';
import { trackConnections } from './http/graceful-shutdown.ts';
import type { ConnectionTracker } from './http/graceful-shutdown.ts';
import { createExclusiveJob, JOB_LOCKS } from './jobs/exclusive.ts';
import { logFailure } from './db/unavailable.ts';
import { accountClientDefinition, createAccountRelyingParty } from './account/relying-party.ts';
import { createAppSessionCookies } from './account/app-session.ts';
import { createProviderRows } from './oidc/provider-rows.ts';

/** How long delivered and abandoned e-mail stays recorded (recipient, subject, status). */
const MAIL_KEPT_DAYS = 30;
/** How long events stay for `webhooks replay` once nothing waits to deliver them. */
const WEBHOOK_EVENTS_KEPT_DAYS = 30;
/** How long delivered and abandoned back-channel logouts stay recorded. */
const BACKCHANNEL_LOGOUTS_KEPT_DAYS = 30;

export interface Sesame {
  app: Koa;
  mailer: Mailer;
  /** Work started after responses (password-reset requests); tests await settled(). */
  afterResponse: AfterResponse;
  host: ProviderHost;
  users: UserService;
  clients: ClientRegistry;
  /** The APIs (resource servers) access tokens are issued for. */
  apis: ApiRegistry;
  keys: KeyStore;
  /** Cookie keys and the keys derived from them (tests: which key signed a cookie). */
  secrets: ServerSecrets;
  /** Webhook endpoints and the delivery worker (tests: addEndpoint, deliverDue). */
  webhooks: Webhooks;
  /** Back-Channel Logout deliveries (tests: deliverDue). */
  backchannelLogouts: BackchannelLogouts;
  /** The audit trail (tests and the benchmark: `settled()` waits for what is being written). */
  audit: AuditTrail;
  /** Deletes expired provider rows and retired keys; also runs every CLEANUP_INTERVAL, on one replica at a time. */
  cleanup(): Promise<void>;
  /**
   * Where the process is in its life: `draining` once SIGTERM arrived (/readyz answers 503 so a
   * load balancer stops sending, requests are still served). src/main.ts drives it.
   */
  lifecycle: Lifecycle;
  /** Starts listening; resolves with the bound address. */
  listen(port?: number, hostname?: string): Promise<{ server: Server; url: string }>;
  /**
   * Stops background jobs and the HTTP server (not the database, which the caller opened): no new
   * connection, what arrives on open ones answered with Connection: close, then every connection closed.
   */
  close(): Promise<void>;
  /** Connections and requests still open (what a shutdown that ran out of time left). */
  openConnections(): { connections: number; requests: number };
}

export interface Lifecycle {
  draining: boolean;
}

export async function createSesame({ config, db, log }: { config: Config; db: Database; log: Logger }): Promise<Sesame> {
  const { prisma } = db;
  const sealer = createSealer(config.secretsEncryptionKey, config.previousSecretsEncryptionKey);
  if (!sealer.sealing && config.env === 'production') {
    log.warn('SECRETS_ENCRYPTION_KEY is not set: private signing keys and cookie keys are stored unencrypted in the database');
  }
  const secrets = await loadServerSecrets(prisma, sealer, {
    interval: config.keyRotationInterval,
    // Twice the refresh interval: every replica accepts a new cookie key before one signs with it.
    lead: 2 * config.keyRefreshInterval,
    // A replaced cookie key is accepted as long as a cookie it signed lives: the session, a sign-in
    // in progress, a device cookie.
    keep: Math.max(config.ttl.session, config.ttl.interaction, DEVICE_COOKIE_LIFETIME),
  });
  const keyPolicy = signingKeyPolicy(config);
  const keys = createKeyStore(prisma, sealer);
  const created = await keys.ensure();
  if (created.length) log.info({ kids: created }, 'generated signing keys');
  const sealed = await keys.sealStored();
  if (sealed) log.info({ keys: sealed }, 'encrypted signing keys stored before SECRETS_ENCRYPTION_KEY was set');

  const metrics = createMetrics({ prisma, pool: db.pool });
  // Written beside what it records, never awaited there: a failure is logged, not shown. Sign-ins
  // and rate-limit refusals are counted from it (observability/audit-counts.ts).
  const audit = countingAuditTrail(createAuditTrail({
    prisma,
    onError: (error, entry) => log.error({ err: error, action: entry.action, requestId: currentRequest()?.requestId }, 'could not record an audit event'),
  }), metrics);
  const passwords = createPasswordHasher(config.argon2);
  const users = createUserService(prisma, passwords, { defaultRoles: config.roles.defaults, audit });
  const clients = createClientRegistry(prisma, { cacheTtlSeconds: config.clientCacheTtl, production: config.env === 'production' });
  if (config.env === 'production') {
    // Loopback redirects of a confidential app belong on a developer's machine, never here.
    const development = await clients.enabledDevelopmentClients();
    if (development.length) throw new Error(`clients marked for development cannot be served with NODE_ENV=production: ${development.join(', ')} (disable them with \`clients disable ID\`, or remove them)`);
  }
  // On the token path too: cached like clients, so a change reaches every replica as quickly.
  const apis = createApiRegistry(prisma, { cacheTtlSeconds: config.clientCacheTtl });
  const tokens = createOneTimeTokens(prisma);
  const limits = createRateLimiter(prisma);
  const mailer = createMailer({ prisma, config, log, metrics });
  const webhooks = createWebhooks({ prisma, config, log, sealer, metrics });
  const sealedHooks = await webhooks.endpoints.sealStored();
  if (sealedHooks) log.info({ endpoints: sealedHooks }, 'encrypted webhook secrets stored before SECRETS_ENCRYPTION_KEY was set or under the previous key');
  if (mailer.transport === 'outbox') log.warn({ outbox: config.mail.outboxDir }, 'e-mail is not delivered: SENDGRID_API_KEY is not set, messages are written to the outbox');
  const selfService = createSelfService({ prisma, users, passwords, tokens, mailer, issuer: config.issuer, audit });
  const factors = createFactors({ prisma });
  const policy = createInteractionPolicy({ users, allowUnverifiedEmail: config.allowUnverifiedEmailSignIn, mfaRequired: config.mfa.required, factors });
  const connectors = createConnectors(config);
  const federated = createFederatedAccounts({ prisma, users, audit });
  const passkeys = createPasskeys({ prisma, webauthn: config.webauthn, audit, challengeKey: secrets.derive('webauthn-challenge'), onRefused: (reason) => log.debug({ requestId: currentRequest()?.requestId, reason }, 'passkey refused') });
  const totp = createTotp({ prisma, sealer, issuerName: config.brandName });
  const recoveryCodes = createRecoveryCodes({ prisma });
  const signIn = createSignIn({ users, federated, passkeys, totp, recoveryCodes, limits, audit, mailer, issuer: config.issuer });
  const pendingLinks = createPendingSeal(secrets.derive('pending-link'));
  const views = createViews({ brandName: config.brandName, brand: config.brand, cache: config.env === 'production' });
  const csrf = createCsrf({ key: secrets.derive('csrf') });
  const devices = createDeviceCookies({ key: secrets.derive('device-cookie') });
  const afterResponse = createAfterResponse(log);
  const pages = createProviderPages(views, log, users);
  const adapter = createAdapterFactory(db.sql, clients);
  const findAccount = createFindAccount(db.sql);
  const consents = createConsentStore(prisma, audit);
  const userChanges = createUserChanges(prisma, { settleSeconds: config.usersFeedSettle });

  const host = await createProviderHost({
    keys,
    secrets,
    ...keyPolicy,
    refreshIntervalSeconds: config.keyRefreshInterval,
    jwksMaxAge: config.jwksMaxAge,
    log,
    build: (jwks, cookieKeys) =>
      observeProvider(withSessionEvents(createProvider({
        config,
        policy,
        adapter,
        jwks,
        cookieKeys,
        findAccount,
        apis,
        rememberedConsent: consents.find,
        pages,
        onServerError: (ctx, error) => logFailure(log, error, { requestId: ctx.state.requestId, path: ctx.path }, 'provider error'),
      }), prisma, log, audit), log, metrics),
  });

  // The account page is a relying app of this server (src/account): its client is written at
  // every start, and its calls to the token endpoint and the keys go to this process's own listener.
  await clients.ensureBuiltIn(accountClientDefinition(config.issuer));
  let listening: string | undefined;
  const account = {
    rows: createProviderRows({ prisma }),
    rp: createAccountRelyingParty({ issuer: config.issuer, localUrl: () => listening }),
    cookies: createAppSessionCookies({ cookieKeys: secrets.cookieKeys }),
    reauthAge: config.account.reauthAge,
    geoipDatabase: config.account.geoipDatabase,
    passwords,
  };

  // Sends the logout tokens sessions' ends queue, signed by the provider of the moment.
  const backchannelLogouts = createBackchannelLogouts({ prisma, config, log, metrics, provider: host.current });

  const lifecycle: Lifecycle = { draining: false };
  const app = createApp({
    lifecycle,
    issuer: config.issuer,
    trustProxy: config.trustProxy,
    cookieKeys: secrets.cookieKeys,
    log,
    views,
    csrf,
    devices,
    afterResponse,
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
    audit,
    signIn,
    totp,
    recoveryCodes,
    factors,
    passkeys,
    mfaRequired: config.mfa.required,
    mailer,
    readiness: { prisma, migrations: readMigrationsList().migrationDirectories.map((dir) => dir.path), keysLoaded: () => host.current() !== undefined },
    metrics,
    metricsToken: config.metricsToken,
    account,
  });

  // One replica at a time (jobs/exclusive.ts): the others skip the round.
  const cleanupJob = createExclusiveJob(prisma, { lock: JOB_LOCKS.cleanup, shared: 'url' in config.database, maxSeconds: config.cleanupInterval }, async () => {
    const deleted = {
      payloads: await deleteExpiredPayloads(prisma),
      retiredKeys: await keys.pruneRetired(new Date(), keyPolicy.retention),
      tokens: await tokens.deleteExpired(),
      webauthnChallenges: await passkeys.deleteExpiredChallenges(),
      rateLimits: await limits.deleteStale(),
      mail: await mailer.deleteDelivered(MAIL_KEPT_DAYS),
      webhookEvents: await webhooks.deleteFinished(WEBHOOK_EVENTS_KEPT_DAYS),
      backchannelLogouts: await backchannelLogouts.deleteFinished(BACKCHANNEL_LOGOUTS_KEPT_DAYS),
      auditEvents: await deleteOldAuditEvents(prisma, config.auditRetention),
    };
    if (Object.values(deleted).some(Boolean)) log.info(deleted, 'deleted expired rows');
  });
  const cleanup = async () => {
    await cleanupJob.run();
  };
  mailer.start();
  webhooks.start();
  backchannelLogouts.start();
  const cleanupTimer = setInterval(() => {
    cleanup().catch((error) => logFailure(log, error, {}, 'cleanup failed'));
  }, config.cleanupInterval * 1000);
  cleanupTimer.unref();

  let server: Server | undefined;
  let connections: ConnectionTracker | undefined;
  return {
    app,
    mailer,
    afterResponse,
    host,
    users,
    clients,
    apis,
    keys,
    secrets,
    webhooks,
    backchannelLogouts,
    audit,
    cleanup,
    lifecycle,
    async listen(port = config.port, hostname = config.host) {
      server = createHttpServer(app.callback());
      connections = trackConnections(server);
      // Keep idle connections open a little longer than typical load balancers (60 s).
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, hostname, () => resolve());
      });
      const { port: bound } = server.address() as AddressInfo;
      // Reached from this host: an address listening everywhere is called on loopback.
      const local = hostname === '0.0.0.0' ? '127.0.0.1' : hostname === '::' ? '::1' : hostname;
      listening = `http://${local.includes(':') ? `[${local}]` : local}:${bound}`;
      return { server, url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${bound}` };
    },
    openConnections: () => connections?.open() ?? { connections: 0, requests: 0 },
    async close() {
      clearInterval(cleanupTimer);
      host.stop();
      await Promise.all([mailer.stop(), webhooks.stop(), backchannelLogouts.stop(), connections?.close(lifecycle.draining)]);
      // What the last requests recorded, before the caller closes the database.
      await audit.settled();
      // Before the caller closes the database they use.
      await afterResponse.settled();
    },
  };
}
