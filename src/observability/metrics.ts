// What /metrics tells Prometheus: requests by route, sign-ins, tokens, rate-limit refusals, mail
// and webhook deliveries, queue depths, the database pool and the process itself. One registry
// per Sésame (never prom-client's global one), so that tests and tools can build several.
// Every label takes a bounded set of values: route templates and names, never raw paths.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type pg from 'pg';
import type { Prisma } from '../db/database.ts';
import { settleWithin } from './deadline.ts';

export type SignInOutcome = 'success' | 'failure' | 'locked';
export type MailOutcome = 'sent' | 'failed' | 'abandoned';
export type WebhookOutcome = 'delivered' | 'failed' | 'abandoned';
export type BackchannelLogoutOutcome = 'delivered' | 'failed' | 'abandoned';

export interface Metrics {
  readonly registry: Registry;
  request(method: string, route: string, status: number, seconds: number): void;
  /** `method`: password, or the connector's id (google). */
  signIn(method: string, outcome: SignInOutcome): void;
  tokenIssued(grantType: string): void;
  rateLimitRefused(limit: string): void;
  mailDelivery(outcome: MailOutcome): void;
  webhookDelivery(outcome: WebhookOutcome): void;
  /** A logout token sent to an app's backchannel_logout_uri (OpenID Connect Back-Channel Logout 1.0). */
  backchannelLogout(outcome: BackchannelLogoutOutcome): void;
}

export interface MetricsSources {
  prisma: Prisma;
  /** PostgreSQL's connection pool (absent on the embedded store). */
  pool?: pg.Pool;
}

/** A scrape never waits longer than this for the queue counts: it reports what it has. */
const QUERY_DEADLINE_MS = 1000;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createMetrics({ prisma, pool }: MetricsSources): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'sesame_' });

  const requests = new Counter({ name: 'sesame_http_requests_total', help: 'HTTP requests answered, by route template and status.', labelNames: ['method', 'route', 'status'], registers });
  const durations = new Histogram({
    name: 'sesame_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template.',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const signIns = new Counter({ name: 'sesame_sign_ins_total', help: 'Sign-ins by method (password, google) and outcome (success, failure, locked).', labelNames: ['method', 'outcome'], registers });
  const tokens = new Counter({ name: 'sesame_tokens_issued_total', help: 'Successful token endpoint requests, by grant type.', labelNames: ['grant_type'], registers });
  const refusals = new Counter({ name: 'sesame_rate_limit_refusals_total', help: 'Requests refused by an abuse limit, by limit.', labelNames: ['limit'], registers });
  const mail = new Counter({ name: 'sesame_mail_deliveries_total', help: 'E-mail delivery attempts: sent, failed (will retry), abandoned (gave up).', labelNames: ['outcome'], registers });
  const webhooks = new Counter({ name: 'sesame_webhook_deliveries_total', help: 'Webhook delivery attempts: delivered, failed (will retry), abandoned (gave up).', labelNames: ['outcome'], registers });
  const logouts = new Counter({ name: 'sesame_backchannel_logouts_total', help: 'Back-channel logout token deliveries: delivered, failed (will retry), abandoned (gave up).', labelNames: ['outcome'], registers });

  // Counted when scraped. A database that does not answer leaves the value out; the scrape goes on.
  const queueDepth = (name: string, help: string, count: () => Promise<number>) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const depth = await settleWithin(count(), QUERY_DEADLINE_MS).catch(() => undefined);
        if (depth === undefined) this.remove();
        else this.set(depth);
      },
    });
  // Both on the (status, next_attempt_at) index.
  queueDepth('sesame_mail_queue_depth', 'E-mail waiting to be delivered (due or waiting to retry).', () => prisma.mailMessage.count({ where: { status: 'pending' } }));
  queueDepth('sesame_webhook_queue_depth', 'Webhook deliveries waiting (due or waiting to retry).', () => prisma.webhookDelivery.count({ where: { status: 'pending' } }));
  queueDepth('sesame_backchannel_logout_queue_depth', 'Logout tokens waiting to be delivered (due or waiting to retry).', () => prisma.backchannelLogout.count({ where: { status: 'pending' } }));

  if (pool) {
    new Gauge({
      name: 'sesame_db_pool_connections',
      help: 'PostgreSQL pool connections: total open, idle, and requests waiting for one.',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  return {
    registry,
    request(method, route, status, seconds) {
      const known = METHODS.has(method) ? method : 'other';
      requests.inc({ method: known, route, status: String(status) });
      durations.observe({ method: known, route }, seconds);
    },
    signIn: (method, outcome) => signIns.inc({ method, outcome }),
    tokenIssued: (grantType) => tokens.inc({ grant_type: grantType }),
    rateLimitRefused: (limit) => refusals.inc({ limit }),
    mailDelivery: (outcome) => mail.inc({ outcome }),
    webhookDelivery: (outcome) => webhooks.inc({ outcome }),
    backchannelLogout: (outcome) => logouts.inc({ outcome }),
  };
}
