// The only reader of the environment. Every setting is parsed and validated here, once;
// every problem is reported together before anything starts. `.env.example` documents them.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { isLoopbackHost } from './http/loopback.ts';
import { AA_TEXT_CONTRAST, contrastRatio, HEX_COLOR } from './http/colors.ts';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const HOUR = 3600;
const DAY = 24 * HOUR;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ISSUER: optionalText.pipe(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional()),
  DATABASE_URL: optionalText.pipe(
    z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// URL' }).optional(),
  ),
  DATA_DIR: z.string().min(1).default('./data'),
  TRUST_PROXY: flag(false),
  BRAND_NAME: z.string().trim().min(1).max(80).default('Sésame'),
  BRAND_LOGO_URL: optionalText,
  BRAND_PRIMARY_COLOR: optionalText.pipe(z.string().regex(HEX_COLOR, 'must be a hex colour like #0b57d0').optional()),
  BRAND_PRIMARY_TEXT_COLOR: z.string().trim().regex(HEX_COLOR, 'must be a hex colour like #ffffff').default('#ffffff'),
  BRAND_SUPPORT_URL: optionalText.pipe(z.url({ protocol: /^(https|mailto)$/, message: 'must be an https:// or mailto: URL' }).optional()),
  BRAND_PRIVACY_URL: optionalText.pipe(z.url({ protocol: /^https$/, message: 'must be an https:// URL' }).optional()),
  BRAND_TERMS_URL: optionalText.pipe(z.url({ protocol: /^https$/, message: 'must be an https:// URL' }).optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  ACCESS_TOKEN_TTL: seconds(HOUR),
  ID_TOKEN_TTL: seconds(HOUR),
  AUTHORIZATION_CODE_TTL: seconds(60).pipe(z.number().max(600, 'must be at most 600 (RFC 9700)')),
  CLIENT_CREDENTIALS_TTL: seconds(10 * 60),
  REFRESH_TOKEN_IDLE_TTL: seconds(14 * DAY),
  REFRESH_TOKEN_ABSOLUTE_TTL: seconds(90 * DAY),
  SESSION_TTL: seconds(12 * HOUR),
  INTERACTION_TTL: seconds(HOUR),

  ARGON2_MEMORY_KIB: z.coerce.number().int().min(8192).default(19456),
  ARGON2_TIME_COST: z.coerce.number().int().min(1).default(2),
  ARGON2_PARALLELISM: z.coerce.number().int().min(1).default(1),
  ARGON2_MAX_CONCURRENCY: z.coerce.number().int().min(1).default(4),

  SECRETS_ENCRYPTION_KEY: optionalText.pipe(z.string().min(32, 'must have at least 32 characters (e.g. `openssl rand -base64 32`)').optional()),
  SECRETS_ENCRYPTION_KEY_PREVIOUS: optionalText,

  CLIENT_CACHE_TTL: z.coerce.number().int().min(0).default(5),
  USERS_FEED_SETTLE: z.coerce.number().int().min(0).max(300).default(5),
  KEY_REFRESH_INTERVAL: seconds(60),
  KEY_ROTATION_INTERVAL: seconds(90 * DAY),
  JWKS_MAX_AGE: z.coerce.number().int().min(0).default(10 * 60),
  KEY_RETIREMENT_GRACE: z.coerce.number().int().min(0).default(5 * 60),
  CLEANUP_INTERVAL: seconds(5 * 60),
  AUDIT_RETENTION: z.coerce.number().int().min(0).default(365 * DAY),

  ALLOW_UNVERIFIED_EMAIL_SIGN_IN: flag(false),
  ROLES: z.string().default('member,admin'),
  DEFAULT_ROLES: z.string().default('member'),
  SENDGRID_API_KEY: optionalText,
  SENDGRID_API_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).default('https://api.sendgrid.com'),
  MAIL_FROM: optionalText.pipe(
    z
      .string()
      .regex(/^([^<>@]+<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'must be an address, or "Name <address>"')
      .optional(),
  ),
  MAIL_TIMEOUT: seconds(10),
  MAIL_RETRY_DELAY: seconds(30),
  MAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  WEBHOOK_TIMEOUT: seconds(10),
  WEBHOOK_RETRY_DELAY: seconds(30),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(15),
  DELIVERY_LEASE: seconds(60),
  BACKCHANNEL_LOGOUT_TIMEOUT: seconds(10),
  BACKCHANNEL_LOGOUT_RETRY_DELAY: seconds(30),
  BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),

  ACCOUNT_REAUTH_AGE: seconds(10 * 60),
  MFA_REQUIRED: flag(false),
  GEOIP_DATABASE: optionalText,

  GOOGLE_CLIENT_ID: optionalText,
  GOOGLE_CLIENT_SECRET: optionalText,
  GOOGLE_ALLOWED_DOMAINS: optionalText,
  GOOGLE_AUTHORIZATION_URL: z.url().default('https://accounts.google.com/o/oauth2/v2/auth'),
  GOOGLE_TOKEN_URL: z.url().default('https://oauth2.googleapis.com/token'),
  GOOGLE_USERINFO_URL: z.url().default('https://openidconnect.googleapis.com/v1/userinfo'),
  GOOGLE_JWKS_URL: z.url().default('https://www.googleapis.com/oauth2/v3/certs'),
  GOOGLE_ISSUER: z.string().min(1).default('https://accounts.google.com'),
  FEDERATION_TIMEOUT: seconds(10),

  METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must have at least 16 characters').optional()),
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  SHUTDOWN_TIMEOUT: seconds(30),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2, 'must be at least 2 (the cleanup holds one connection for its lock and works on another)').max(500).default(10),
  DATABASE_CONNECT_TIMEOUT: seconds(5),
  DATABASE_STATEMENT_TIMEOUT: seconds(10),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly database: { readonly url: string } | { readonly dataDir: string };
  readonly trustProxy: boolean;
  readonly brandName: string;
  /** The company's look on every page (src/http/views.ts). */
  readonly brand: {
    /** An https image URL, or an image file served by us as an asset. */
    readonly logo?: { readonly url: string } | { readonly file: string; readonly type: string };
    /** Buttons' colour and their text's; the text reads at 4.5:1 on it (checked here). */
    readonly colors?: { readonly primary: string; readonly text: string };
    /** Footer links. */
    readonly links: { readonly support?: string; readonly privacy?: string; readonly terms?: string };
  };
  readonly logLevel: string;
  readonly ttl: {
    readonly accessToken: number;
    readonly idToken: number;
    readonly authorizationCode: number;
    readonly clientCredentials: number;
    readonly refreshTokenIdle: number;
    readonly refreshTokenAbsolute: number;
    readonly session: number;
    readonly interaction: number;
  };
  readonly argon2: {
    readonly memoryCost: number;
    readonly timeCost: number;
    readonly parallelism: number;
    readonly maxConcurrency: number;
  };
  /** Encrypts private signing keys and cookie keys in the database (src/oidc/sealing.ts). */
  readonly secretsEncryptionKey?: string;
  /** The key before a change of SECRETS_ENCRYPTION_KEY: read only, until everything is sealed again. */
  readonly previousSecretsEncryptionKey?: string;
  readonly clientCacheTtl: number;
  /** Seconds the users feed holds back a change, so that late commits are not skipped. */
  readonly usersFeedSettle: number;
  readonly keyRefreshInterval: number;
  /** Seconds a signing key or cookie key signs before the schedule adds its successor. */
  readonly keyRotationInterval: number;
  /** Seconds relying apps may cache the JWKS (Cache-Control on /jwks). */
  readonly jwksMaxAge: number;
  /** Seconds a replaced signing key stays published past the expiry of the last token it signed. */
  readonly keyRetirementGrace: number;
  readonly cleanupInterval: number;
  /** Seconds the audit trail keeps an event (the cleanup deletes older ones); 0: for ever. */
  readonly auditRetention: number;
  /** The role names accounts may carry, and those every new account gets. */
  readonly roles: { readonly names: readonly string[]; readonly defaults: readonly string[] };
  /** Weakens sign-in: accounts whose e-mail address is not verified may finish signing in. */
  readonly allowUnverifiedEmailSignIn: boolean;
  /** Sign-in with Google, when a client id and secret are set. */
  readonly google?: {
    readonly clientId: string;
    readonly clientSecret: string;
    /** Workspace domains allowed to sign in (lower case); empty: any Google account. */
    readonly allowedDomains: readonly string[];
    readonly authorizationUrl: string;
    readonly tokenUrl: string;
    readonly userinfoUrl: string;
    readonly jwksUrl: string;
    /** Accepted `iss` values of Google's ID tokens. */
    readonly issuers: readonly string[];
  };
  /** Seconds an upstream provider (Google) has to answer a token or userinfo request. */
  readonly federationTimeout: number;
  /** `/metrics` asks for `Authorization: Bearer <token>` when set; open otherwise. */
  readonly metricsToken?: string;
  /** Graceful shutdown on SIGTERM (src/main.ts). */
  readonly shutdown: {
    /** Seconds `/readyz` says 503 while requests are still served, so a load balancer stops sending. */
    readonly drainSeconds: number;
    /** Seconds from the signal after which the process exits whatever is left. */
    readonly timeoutSeconds: number;
  };
  /** PostgreSQL connections (DATABASE_URL): pool size and how long a connection or a statement may take. */
  readonly databasePool: {
    readonly size: number;
    readonly connectTimeoutSeconds: number;
    readonly statementTimeoutSeconds: number;
  };
  readonly mail: {
    /** SendGrid when an API key is set; otherwise the development outbox in `outboxDir`. */
    readonly sendgrid?: { readonly apiKey: string; readonly apiUrl: string };
    readonly from: string;
    readonly outboxDir: string;
    readonly timeout: number;
    readonly retryDelay: number;
    readonly maxAttempts: number;
  };
  /** Delivery of user and session events to the endpoints `admin webhooks add` registers. */
  readonly webhooks: {
    /** Seconds an endpoint has to answer one delivery. */
    readonly timeout: number;
    /** Seconds before the first retry; doubled after each failure, up to six hours. */
    readonly retryDelay: number;
    readonly maxAttempts: number;
  };
  /**
   * Seconds a replica holds an e-mail or webhook delivery it claimed: another replica sends it
   * after this long if the first died (kill -9) before recording the outcome.
   */
  readonly deliveryLease: number;
  /** OpenID Connect Back-Channel Logout 1.0: delivery of logout tokens to clients' backchannel_logout_uri. */
  readonly backchannelLogout: {
    /** Seconds a client has to answer one logout token. */
    readonly timeout: number;
    /** Seconds before the first retry; doubled after each failure, up to six hours. */
    readonly retryDelay: number;
    readonly maxAttempts: number;
  };
  /** The account page (/account). */
  readonly account: {
    /** Seconds after a sign-in within which a change may be made without signing in again. */
    readonly reauthAge: number;
    /** A MaxMind-format (.mmdb) city database: sessions show an approximate place, else only the IP. */
    readonly geoipDatabase?: string;
  };
  /** Second factors. */
  readonly mfa: {
    /** Every account needs a second factor: those without one enrol at their next sign-in. */
    readonly required: boolean;
  };
  /** WebAuthn (passkeys): the relying party is the ISSUER's host. */
  readonly webauthn: {
    readonly rpId: string;
    readonly rpName: string;
    /** The origin browsers report in clientDataJSON: the ISSUER's. */
    readonly origin: string;
  };
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}


type Settings = z.output<typeof envSchema>;

/** The settings that are valid on their own, so checks across settings can run beside the others. */
function validSettings(env: Env): Partial<Settings> {
  const entries = Object.entries(envSchema.shape).map(([key, schema]) => [key, schema.safeParse(env[key])] as const);
  return Object.fromEntries(entries.flatMap(([key, result]) => (result.success ? [[key, result.data]] : [])));
}

function issuerOf(e: Partial<Settings>): string | undefined {
  const issuer = e.ISSUER ?? (e.PORT === undefined ? undefined : `http://localhost:${e.PORT}`);
  return issuer?.replace(/\/+$/, '');
}

function domainList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((domain) => domain.trim().toLowerCase()).filter(Boolean);
}

/** A role name: what apps compare, so kept plain (lower case, digits, `_`, `-`, `:`). */
export const ROLE_NAME = /^[a-z][a-z0-9_:-]{0,62}$/;

function roleList(text: string | undefined): string[] {
  return [...new Set((text ?? '').split(',').map((role) => role.trim()).filter(Boolean))];
}

function crossProblems(e: Partial<Settings>): string[] {
  const problems: string[] = [];
  const roles = roleList(e.ROLES);
  for (const role of roles) if (!ROLE_NAME.test(role)) problems.push(`ROLES: "${role}" is not a role name (lower-case letters, digits, "_", "-", ":")`);
  if (e.ROLES !== undefined && roles.length === 0) problems.push('ROLES: name at least one role');
  for (const role of roleList(e.DEFAULT_ROLES)) if (e.ROLES !== undefined && !roles.includes(role)) problems.push(`DEFAULT_ROLES: "${role}" is not one of ROLES`);
  const issuer = issuerOf(e);
  const issuerUrl = issuer === undefined ? undefined : new URL(issuer);
  if (issuerUrl?.search || issuerUrl?.hash) problems.push('ISSUER: must not have a query or a fragment');
  if (e.NODE_ENV === 'production' && issuerUrl?.protocol === 'http:' && !isLoopbackHost(issuerUrl.hostname)) {
    problems.push('ISSUER: must be https:// in production (plain http is only allowed for localhost)');
  }
  if (e.REFRESH_TOKEN_IDLE_TTL !== undefined && e.REFRESH_TOKEN_ABSOLUTE_TTL !== undefined && e.REFRESH_TOKEN_IDLE_TTL > e.REFRESH_TOKEN_ABSOLUTE_TTL) {
    problems.push('REFRESH_TOKEN_IDLE_TTL: must not exceed REFRESH_TOKEN_ABSOLUTE_TTL');
  }
  if (e.SECRETS_ENCRYPTION_KEY_PREVIOUS && !e.SECRETS_ENCRYPTION_KEY) problems.push('SECRETS_ENCRYPTION_KEY_PREVIOUS: only with SECRETS_ENCRYPTION_KEY (the new key)');
  if (e.SENDGRID_API_KEY && !e.MAIL_FROM) problems.push('MAIL_FROM: is required with SENDGRID_API_KEY (a sender SendGrid has verified)');
  if (Boolean(e.GOOGLE_CLIENT_ID) !== Boolean(e.GOOGLE_CLIENT_SECRET)) {
    problems.push('GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET: set both to enable sign-in with Google, or neither');
  }
  for (const domain of domainList(e.GOOGLE_ALLOWED_DOMAINS)) {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain)) problems.push(`GOOGLE_ALLOWED_DOMAINS: "${domain}" is not a domain name`);
  }
  for (const timeout of ['MAIL_TIMEOUT', 'WEBHOOK_TIMEOUT', 'BACKCHANNEL_LOGOUT_TIMEOUT'] as const) {
    if (e.DELIVERY_LEASE !== undefined && e[timeout] !== undefined && e.DELIVERY_LEASE < 2 * e[timeout]) {
      problems.push(`DELIVERY_LEASE: must be at least twice ${timeout} (an attempt must end well within the lease, or another replica sends it again)`);
    }
  }
  if (e.SHUTDOWN_DRAIN_SECONDS !== undefined && e.SHUTDOWN_TIMEOUT !== undefined && e.SHUTDOWN_DRAIN_SECONDS >= e.SHUTDOWN_TIMEOUT) {
    problems.push('SHUTDOWN_DRAIN_SECONDS: must be less than SHUTDOWN_TIMEOUT (requests in flight need time to finish after the drain)');
  }
  if (e.GEOIP_DATABASE && !(existsSync(resolve(e.GEOIP_DATABASE)) && statSync(resolve(e.GEOIP_DATABASE)).isFile())) {
    problems.push(`GEOIP_DATABASE: no file at ${resolve(e.GEOIP_DATABASE)}`);
  }
  problems.push(...brandProblems(e));
  return problems;
}

const LOGO_TYPES: Record<string, string> = { '.png': 'image/png', '.svg': 'image/svg+xml', '.webp': 'image/webp' };
const LOGO_MAX_BYTES = 512 * 1024;

/** BRAND_LOGO_URL: an https URL (shown as is) or a file of ours, served as an asset. */
function logoOf(value: string | undefined): Config['brand']['logo'] | string {
  if (!value) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    return URL.canParse(value) && new URL(value).protocol === 'https:' ? { url: value } : 'BRAND_LOGO_URL: must be an https:// URL or the path of a .png, .svg or .webp file';
  }
  const file = resolve(value);
  const type = LOGO_TYPES[extname(file).toLowerCase()];
  if (!type) return 'BRAND_LOGO_URL: a logo file must be a .png, .svg or .webp image';
  if (!existsSync(file) || !statSync(file).isFile()) return `BRAND_LOGO_URL: no file at ${file}`;
  if (statSync(file).size > LOGO_MAX_BYTES) return `BRAND_LOGO_URL: ${file} is larger than ${LOGO_MAX_BYTES / 1024} KiB`;
  return { file, type };
}

function brandProblems(e: Partial<Settings>): string[] {
  const problems: string[] = [];
  const logo = logoOf(e.BRAND_LOGO_URL);
  if (typeof logo === 'string') problems.push(logo);
  if (e.BRAND_PRIMARY_COLOR && e.BRAND_PRIMARY_TEXT_COLOR) {
    const ratio = contrastRatio(e.BRAND_PRIMARY_COLOR, e.BRAND_PRIMARY_TEXT_COLOR);
    if (ratio < AA_TEXT_CONTRAST) {
      problems.push(
        `BRAND_PRIMARY_COLOR: button text in ${e.BRAND_PRIMARY_TEXT_COLOR} on ${e.BRAND_PRIMARY_COLOR} has a contrast of ${ratio.toFixed(2)}:1, ` +
          `below the ${AA_TEXT_CONTRAST}:1 WCAG AA asks for: choose a darker colour, or set BRAND_PRIMARY_TEXT_COLOR (e.g. #000000)`,
      );
    }
  }
  return problems;
}

/** Parses settings from an environment-like object. Pure: tests call it with their own values. */
export function loadConfig(env: Env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError([...problems, ...crossProblems(validSettings(env))]);
  }
  const e = parsed.data;
  const problems = crossProblems(e);
  if (problems.length) throw new ConfigError(problems);
  const issuer = issuerOf(e)!;

  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    issuer,
    database: Object.freeze(e.DATABASE_URL ? { url: e.DATABASE_URL } : { dataDir: resolve(e.DATA_DIR) }),
    trustProxy: e.TRUST_PROXY,
    brandName: e.BRAND_NAME,
    brand: Object.freeze({
      ...(e.BRAND_LOGO_URL ? { logo: Object.freeze(logoOf(e.BRAND_LOGO_URL) as NonNullable<Config['brand']['logo']>) } : {}),
      ...(e.BRAND_PRIMARY_COLOR ? { colors: Object.freeze({ primary: e.BRAND_PRIMARY_COLOR.toLowerCase(), text: e.BRAND_PRIMARY_TEXT_COLOR.toLowerCase() }) } : {}),
      links: Object.freeze({
        ...(e.BRAND_SUPPORT_URL ? { support: e.BRAND_SUPPORT_URL } : {}),
        ...(e.BRAND_PRIVACY_URL ? { privacy: e.BRAND_PRIVACY_URL } : {}),
        ...(e.BRAND_TERMS_URL ? { terms: e.BRAND_TERMS_URL } : {}),
      }),
    }),
    logLevel: e.LOG_LEVEL,
    ttl: Object.freeze({
      accessToken: e.ACCESS_TOKEN_TTL,
      idToken: e.ID_TOKEN_TTL,
      authorizationCode: e.AUTHORIZATION_CODE_TTL,
      clientCredentials: e.CLIENT_CREDENTIALS_TTL,
      refreshTokenIdle: e.REFRESH_TOKEN_IDLE_TTL,
      refreshTokenAbsolute: e.REFRESH_TOKEN_ABSOLUTE_TTL,
      session: e.SESSION_TTL,
      interaction: e.INTERACTION_TTL,
    }),
    argon2: Object.freeze({
      memoryCost: e.ARGON2_MEMORY_KIB,
      timeCost: e.ARGON2_TIME_COST,
      parallelism: e.ARGON2_PARALLELISM,
      maxConcurrency: e.ARGON2_MAX_CONCURRENCY,
    }),
    ...(e.SECRETS_ENCRYPTION_KEY ? { secretsEncryptionKey: e.SECRETS_ENCRYPTION_KEY } : {}),
    ...(e.SECRETS_ENCRYPTION_KEY_PREVIOUS ? { previousSecretsEncryptionKey: e.SECRETS_ENCRYPTION_KEY_PREVIOUS } : {}),
    clientCacheTtl: e.CLIENT_CACHE_TTL,
    usersFeedSettle: e.USERS_FEED_SETTLE,
    keyRefreshInterval: e.KEY_REFRESH_INTERVAL,
    keyRotationInterval: e.KEY_ROTATION_INTERVAL,
    jwksMaxAge: e.JWKS_MAX_AGE,
    keyRetirementGrace: e.KEY_RETIREMENT_GRACE,
    cleanupInterval: e.CLEANUP_INTERVAL,
    auditRetention: e.AUDIT_RETENTION,
    roles: Object.freeze({ names: Object.freeze(roleList(e.ROLES)), defaults: Object.freeze(roleList(e.DEFAULT_ROLES)) }),
    allowUnverifiedEmailSignIn: e.ALLOW_UNVERIFIED_EMAIL_SIGN_IN,
    ...(e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET
      ? {
          google: Object.freeze({
            clientId: e.GOOGLE_CLIENT_ID,
            clientSecret: e.GOOGLE_CLIENT_SECRET,
            allowedDomains: Object.freeze(domainList(e.GOOGLE_ALLOWED_DOMAINS)),
            authorizationUrl: e.GOOGLE_AUTHORIZATION_URL,
            tokenUrl: e.GOOGLE_TOKEN_URL,
            userinfoUrl: e.GOOGLE_USERINFO_URL,
            jwksUrl: e.GOOGLE_JWKS_URL,
            // Google signs with either form of its issuer.
            issuers: Object.freeze(e.GOOGLE_ISSUER === 'https://accounts.google.com' ? ['https://accounts.google.com', 'accounts.google.com'] : [e.GOOGLE_ISSUER]),
          }),
        }
      : {}),
    federationTimeout: e.FEDERATION_TIMEOUT,
    ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
    shutdown: Object.freeze({ drainSeconds: e.SHUTDOWN_DRAIN_SECONDS, timeoutSeconds: e.SHUTDOWN_TIMEOUT }),
    databasePool: Object.freeze({ size: e.DATABASE_POOL_SIZE, connectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT, statementTimeoutSeconds: e.DATABASE_STATEMENT_TIMEOUT }),
    mail: Object.freeze({
      ...(e.SENDGRID_API_KEY ? { sendgrid: Object.freeze({ apiKey: e.SENDGRID_API_KEY, apiUrl: e.SENDGRID_API_URL.replace(/\/+$/, '') }) } : {}),
      from: e.MAIL_FROM ?? `no-reply@${new URL(issuer).hostname}`,
      outboxDir: resolve(e.DATA_DIR, 'outbox'),
      timeout: e.MAIL_TIMEOUT,
      retryDelay: e.MAIL_RETRY_DELAY,
      maxAttempts: e.MAIL_MAX_ATTEMPTS,
    }),
    webhooks: Object.freeze({ timeout: e.WEBHOOK_TIMEOUT, retryDelay: e.WEBHOOK_RETRY_DELAY, maxAttempts: e.WEBHOOK_MAX_ATTEMPTS }),
    deliveryLease: e.DELIVERY_LEASE,
    backchannelLogout: Object.freeze({ timeout: e.BACKCHANNEL_LOGOUT_TIMEOUT, retryDelay: e.BACKCHANNEL_LOGOUT_RETRY_DELAY, maxAttempts: e.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS }),
    account: Object.freeze({ reauthAge: e.ACCOUNT_REAUTH_AGE, ...(e.GEOIP_DATABASE ? { geoipDatabase: resolve(e.GEOIP_DATABASE) } : {}) }),
    mfa: Object.freeze({ required: e.MFA_REQUIRED }),
    webauthn: Object.freeze({ rpId: new URL(issuer).hostname, rpName: e.BRAND_NAME, origin: new URL(issuer).origin }),
  });
}

/** The process environment, with `.env` (when present) filling what the environment leaves unset. */
export function readEnvironment(cwd = process.cwd()): Env {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...process.env };
}
