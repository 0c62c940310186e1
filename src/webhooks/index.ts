// User and session events delivered to the endpoints admins register (Standard Webhooks).
// Events are recorded by the transactions of the changes they describe (events.ts); a worker in
// every replica claims due deliveries from the shared queue (queue.ts), sends them (sender.ts)
// and retries failures with exponential back-off for more than a day, the event id unchanged,
// so receivers deduplicate on webhook-id. Sign-ins never wait for a delivery: they only insert
// rows; a slow or dead endpoint holds at most a few of the worker's slots.
import type { Config } from '../config.ts';
import type { Prisma } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Sealer } from '../oidc/sealing.ts';
import { createWebhookEndpoints, secretContext } from './endpoints.ts';
import type { WebhookEndpoints } from './endpoints.ts';
import { createDeliveryQueue } from './queue.ts';
import type { ClaimedDelivery, DeliveryQueue } from './queue.ts';
import { DeliveryFailure, sendWebhook } from './sender.ts';
import { createKicker } from '../jobs/kicker.ts';
import { logFailure } from '../db/unavailable.ts';

export interface Webhooks {
  endpoints: WebhookEndpoints;
  deliveries: Pick<DeliveryQueue, 'list' | 'replay'>;
  /** Registers an endpoint (events: empty for all); the secret is returned this once. */
  addEndpoint(input: { url: string; events?: readonly string[] }): Promise<{ id: string; secret: string }>;
  /** Attempts every delivery due now, until none is left; returns how many (tests, scripts). */
  deliverDue(): Promise<number>;
  /** Background worker: polls every second. */
  start(): void;
  /** Claims nothing more, gives back what it claimed but has not sent, and waits for the attempts under way. */
  stop(): Promise<void>;
  /** Deletes events older than `days` that nothing waits to deliver; returns how many. */
  deleteFinished(days: number): Promise<number>;
}

const POLL_INTERVAL_MS = 1000;
const CONCURRENCY = 16;
const PER_ENDPOINT = 4;

/** The endpoints and the delivery queue, on the settings: what the server's worker and the admin CLI work on. */
export function createWebhookStores({ prisma, config, sealer }: { prisma: Prisma; config: Config; sealer: Sealer }) {
  const { retryDelay, maxAttempts } = config.webhooks;
  return {
    endpoints: createWebhookEndpoints(prisma, sealer, { production: config.env === 'production' }),
    // At least twice the longest attempt (config.ts), so no other replica takes a delivery being sent.
    deliveries: createDeliveryQueue(prisma, { leaseSeconds: config.deliveryLease, retryDelay, maxAttempts }),
  };
}

export function createWebhooks({ prisma, config, log, sealer, metrics }: { prisma: Prisma; config: Config; log: Logger; sealer: Sealer; metrics?: Metrics }): Webhooks {
  const { timeout } = config.webhooks;
  const { endpoints, deliveries: queue } = createWebhookStores({ prisma, config, sealer });
  const userAgent = `${config.brandName.normalize('NFD').replace(/[^\x20-\x7e]/g, '')} webhooks (${config.issuer})`;

  const attempt = async (delivery: ClaimedDelivery) => {
    const about = { deliveryId: String(delivery.id), eventId: delivery.eventId, endpointId: delivery.endpointId, attempts: delivery.attempts };
    try {
      const secret = sealer.open(delivery.secret, secretContext(delivery.endpointId));
      const status = await sendWebhook({ url: delivery.url, secret, id: delivery.eventId, body: delivery.body, timeoutSeconds: timeout, userAgent });
      await queue.markDelivered(delivery, status);
      metrics?.webhookDelivery('delivered');
      log.debug({ ...about, status }, 'webhook delivered');
    } catch (error) {
      const status = error instanceof DeliveryFailure ? error.status : null;
      const reason = (error as Error).message;
      const outcome = await queue.markFailed(delivery, reason, status);
      metrics?.webhookDelivery(outcome === 'failed' ? 'abandoned' : 'failed');
      if (outcome === 'failed') log.error({ ...about, reason }, 'webhook could not be delivered; giving up');
      else log.warn({ ...about, reason }, 'webhook delivery failed; will retry');
    }
  };

  // Deliveries in flight in this process, per endpoint.
  const inFlight = new Map<string, Set<Promise<void>>>();
  const inFlightCount = () => [...inFlight.values()].reduce((sum, set) => sum + set.size, 0);
  const launch = (delivery: ClaimedDelivery, then: () => void) => {
    const set = inFlight.get(delivery.endpointId) ?? new Set();
    inFlight.set(delivery.endpointId, set);
    const running: Promise<void> = attempt(delivery)
      .catch((error: unknown) => logFailure(log, error, {}, 'webhook worker failed'))
      .finally(() => {
        set.delete(running);
        if (!set.size) inFlight.delete(delivery.endpointId);
        then();
      });
    set.add(running);
  };
  const claim = (room: number) => {
    const busy = [...inFlight].filter(([, set]) => set.size >= PER_ENDPOINT).map(([id]) => id);
    return queue.claimDue(room, { perEndpoint: PER_ENDPOINT, busy });
  };

  // Fills the free slots with due deliveries; every finished attempt kicks again.
  const worker = createKicker(
    async (running) => {
      const room = CONCURRENCY - inFlightCount();
      if (room <= 0) return;
      const batch = await claim(room);
      // Stopped while claiming: another replica sends them now rather than after the lease.
      if (!running()) return queue.release(batch);
      for (const delivery of batch) launch(delivery, worker.kick);
      if (batch.length === room) worker.kick();
    },
    POLL_INTERVAL_MS,
    (error) => logFailure(log, error, {}, 'webhook worker could not claim deliveries'),
  );

  return {
    endpoints,
    deliveries: { list: queue.list, replay: queue.replay },
    async addEndpoint(input) {
      const { id, secret } = await endpoints.add(input);
      return { id, secret };
    },
    async deliverDue() {
      let attempted = 0;
      for (;;) {
        const batch = await claim(CONCURRENCY);
        if (!batch.length) return attempted;
        await Promise.all(batch.map(attempt));
        attempted += batch.length;
      }
    },
    deleteFinished: (days) => queue.deleteFinished(days),
    start: worker.start,
    async stop() {
      await worker.stop();
      await Promise.all([...inFlight.values()].flatMap((set) => [...set]));
    },
  };
}
