// OpenID Connect Back-Channel Logout 1.0: when a session ends, every app that took part in it and
// registered a backchannel_logout_uri gets a logout token (typ logout+jwt, `sub`, `sid`, the
// back-channel event), delivered reliably and never by the request that ended the session.
//   - Queued: a row in backchannel_logouts, written by the transaction that ends the session
//     (provider-rows.ts for sign-out everywhere, revocations and expiry; session-events.ts for
//     oidc-provider's own sign-out, whose sends withQueuedBackchannelLogout turns into rows).
//   - Sent: by a worker in every replica (backchannel-queue.ts leases), with oidc-provider's own
//     Client#backchannelLogout on the current provider, which signs the token with the current
//     keys; retried with back-off, given up after BACKCHANNEL_LOGOUT_MAX_ATTEMPTS.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Prisma } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { currentScope } from '../http/request-context.ts';
import { createKicker } from '../jobs/kicker.ts';
import { logFailure } from '../db/unavailable.ts';
import { createLogoutQueue } from './backchannel-queue.ts';
import type { ClaimedLogout } from './backchannel-queue.ts';

export interface PendingLogout {
  clientId: string;
  sub: string;
  sid: string;
}

type Send = (this: { clientId: string }, sub: string, sid: string) => Promise<void>;
interface ClientPrototype {
  backchannelLogout: Send;
}

/** oidc-provider's own senders, by the Client prototype of each provider built (keys change: a new provider). */
const senders = new WeakMap<object, Send>();
const pendingKey = Symbol('backchannel logouts');

/**
 * `provider`, whose sign-out (end_session_confirm) queues its back-channel logouts in the request
 * instead of sending them while the person waits: session-events.ts writes them in the transaction
 * that deletes the session. The original sender is kept for the worker.
 */
export function withQueuedBackchannelLogout(provider: Provider): Provider {
  const prototype = provider.Client.prototype as unknown as ClientPrototype;
  senders.set(prototype, prototype.backchannelLogout);
  prototype.backchannelLogout = async function queue(this: { clientId: string }, sub: string, sid: string) {
    const ctx = currentScope()?.ctx;
    if (!ctx) throw new Error('a back-channel logout outside a request cannot be queued');
    pendingLogouts(ctx).push({ clientId: this.clientId, sub, sid });
  };
  return provider;
}

function pendingLogouts(ctx: Koa.Context): PendingLogout[] {
  const state = ctx.state as { [pendingKey]?: PendingLogout[] };
  return (state[pendingKey] ??= []);
}

/** The logouts this request's sign-out queued, handed over once. */
export function takePendingLogouts(ctx: Koa.Context): PendingLogout[] {
  const state = ctx.state as { [pendingKey]?: PendingLogout[] };
  const pending = state[pendingKey] ?? [];
  state[pendingKey] = [];
  return pending;
}

export interface BackchannelLogouts {
  /** Attempts every logout due now, until none is left; returns how many (tests, scripts). */
  deliverDue(): Promise<number>;
  /** Background worker: polls every second. */
  start(): void;
  /** Claims nothing more, gives back what it claimed but has not sent, and waits for the attempts under way. */
  stop(): Promise<void>;
  /** Deletes delivered and abandoned logouts older than `days`; returns how many. */
  deleteFinished(days: number): Promise<number>;
}

const POLL_INTERVAL_MS = 1000;
const CONCURRENCY = 8;

export function createBackchannelLogouts(deps: { prisma: Prisma; config: Config; log: Logger; metrics?: Metrics; provider: () => Provider }): BackchannelLogouts {
  const { prisma, config, log, metrics } = deps;
  const { retryDelay, maxAttempts } = config.backchannelLogout;
  // At least twice the longest attempt (config.ts), so no other replica takes a logout being sent.
  const queue = createLogoutQueue(prisma, { leaseSeconds: config.deliveryLease, retryDelay, maxAttempts });

  const attempt = async (logout: ClaimedLogout) => {
    const about = { logoutId: String(logout.id), clientId: logout.clientId, sid: logout.sid, attempts: logout.attempts };
    try {
      const provider = deps.provider();
      const client = await provider.Client.find(logout.clientId);
      const send = senders.get(provider.Client.prototype);
      if (!client?.backchannelLogoutUri || !send) {
        await queue.markFailed(logout, 'the app is removed or disabled, or no longer has a back-channel logout URI', { final: true });
        metrics?.backchannelLogout('abandoned');
        log.warn(about, 'back-channel logout dropped: the app no longer takes it');
        return;
      }
      await send.call(client as unknown as { clientId: string }, logout.sub, logout.sid);
      await queue.markDelivered(logout);
      metrics?.backchannelLogout('delivered');
      log.debug(about, 'back-channel logout delivered');
    } catch (error) {
      const reason = (error as Error).message;
      const outcome = await queue.markFailed(logout, reason);
      metrics?.backchannelLogout(outcome === 'failed' ? 'abandoned' : 'failed');
      if (outcome === 'failed') log.error({ ...about, reason }, 'back-channel logout could not be delivered; giving up');
      else log.warn({ ...about, reason }, 'back-channel logout failed; will retry');
    }
  };

  const inFlight = new Set<Promise<void>>();
  const launch = (logout: ClaimedLogout, then: () => void) => {
    const running: Promise<void> = attempt(logout)
      .catch((error: unknown) => logFailure(log, error, {}, 'back-channel logout worker failed'))
      .finally(() => {
        inFlight.delete(running);
        then();
      });
    inFlight.add(running);
  };

  const worker = createKicker(
    async (running) => {
      const room = CONCURRENCY - inFlight.size;
      if (room <= 0) return;
      const batch = await queue.claimDue(room);
      // Stopped while claiming: another replica sends them now rather than after the lease.
      if (!running()) return queue.release(batch);
      for (const logout of batch) launch(logout, worker.kick);
      if (batch.length === room) worker.kick();
    },
    POLL_INTERVAL_MS,
    (error) => logFailure(log, error, {}, 'back-channel logout worker could not claim logouts'),
  );

  return {
    async deliverDue() {
      let attempted = 0;
      for (;;) {
        const batch = await queue.claimDue(CONCURRENCY);
        if (!batch.length) return attempted;
        await Promise.all(batch.map((logout) => attempt(logout).catch((error: unknown) => logFailure(log, error, {}, 'back-channel logout worker failed'))));
        attempted += batch.length;
      }
    },
    start: worker.start,
    async stop() {
      await worker.stop();
      await Promise.all([...inFlight]);
    },
    deleteFinished: (days) => queue.deleteFinished(days),
  };
}
