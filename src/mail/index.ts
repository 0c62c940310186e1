// Outgoing e-mail. send() renders the message and records it in mail_messages, then returns: a
// slow or failing SendGrid never holds up (or reveals anything through the timing of) the request
// that asked for it. A background worker in every replica claims due messages, hands them to the
// transport and retries failures with exponential back-off until maxAttempts. Logs name the
// recipient and kind, never a body: bodies hold single-use links.
import type { Config } from '../config.ts';
import type { Prisma } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { createOutboxTransport } from './outbox.ts';
import { createMailQueue } from './queue.ts';
import type { ClaimedMail } from './queue.ts';
import { createMailRenderer } from './render.ts';
import { createSendGridTransport } from './sendgrid.ts';
import { describeDeliveryError } from './transport.ts';
import { createKicker } from '../jobs/kicker.ts';
import type { Transport } from './transport.ts';
import type { Metrics } from '../observability/metrics.ts';
import { logFailure } from '../db/unavailable.ts';

export type MailKind = 'verify-email' | 'reset-password' | 'password-changed' | 'already-registered' | 'link-account' | 'confirm-new-email' | 'security-change';

export interface MailRequest {
  kind: MailKind;
  to: string;
  locale: 'en' | 'fr';
  /** Per kind: verify-email {link, name?}; reset-password {link}; password-changed {resetLink};
   *  already-registered {signInLink, resetLink}; link-account {link, provider}; confirm-new-email {link};
   *  security-change {change (compose.ts SECURITY_CHANGES), accountLink, newEmail|device|remaining|provider}.
   *  Links are absolute, under the issuer. */
  values: Record<string, string>;
}

export interface Mailer {
  /** Records the rendered message and returns at once; delivery happens in the background,
   *  with retries. Never throws because delivery is failing. */
  send(request: MailRequest): Promise<void>;
  /** Delivers every message that is due now; returns how many were attempted (worker + tests). */
  deliverDue(): Promise<number>;
  /** Background worker: polls every few seconds and is kicked by send(). */
  start(): void;
  /** Claims nothing more, gives back what it claimed but has not started, and waits for the attempts under way. */
  stop(): Promise<void>;
  /** Deletes delivered and abandoned messages older than `days`; returns how many. */
  deleteDelivered(days: number): Promise<number>;
  readonly transport: 'sendgrid' | 'outbox';
}

const POLL_INTERVAL_MS = 5000;
const BATCH_SIZE = 10;

export function createMailer({ prisma, config, log, metrics }: { prisma: Prisma; config: Config; log: Logger; metrics?: Metrics }): Mailer {
  const { mail } = config;
  const transport: Transport = mail.sendgrid
    ? createSendGridTransport({ ...mail.sendgrid, from: mail.from, timeoutSeconds: mail.timeout })
    : createOutboxTransport({ dir: mail.outboxDir });
  const render = createMailRenderer({ brand: config.brandName, issuer: config.issuer });
  // At least twice the longest attempt (config.ts), so no other replica takes a message being sent.
  const queue = createMailQueue(prisma, { leaseSeconds: config.deliveryLease, retryDelay: mail.retryDelay, maxAttempts: mail.maxAttempts });

  const attempt = async (message: ClaimedMail) => {
    const about = { mailId: String(message.id), to: message.to, kind: message.kind, attempts: message.attempts };
    let details: Record<string, string>;
    try {
      details = await transport.deliver(message);
    } catch (error) {
      const reason = describeDeliveryError(error);
      const outcome = await queue.markFailed(message, reason);
      metrics?.mailDelivery(outcome === 'failed' ? 'abandoned' : 'failed');
      if (outcome === 'failed') log.error({ ...about, reason }, 'e-mail could not be delivered; giving up');
      else log.warn({ ...about, reason }, 'e-mail delivery failed; will retry');
      return;
    }
    await queue.markSent(message);
    metrics?.mailDelivery('sent');
    log.info({ ...about, transport: transport.name, subject: message.subject, ...details }, 'e-mail delivered');
  };

  /** Claims and attempts batches until nothing is due (or `proceed` says stop). */
  const drain = async (proceed: () => boolean) => {
    let attempted = 0;
    while (proceed()) {
      const batch = await queue.claimDue(BATCH_SIZE);
      if (!batch.length) break;
      if (!proceed()) {
        // Stopped while claiming: another replica sends them now rather than after the lease.
        await queue.release(batch);
        break;
      }
      const results = await Promise.allSettled(batch.map(attempt));
      attempted += batch.length;
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    }
    return attempted;
  };

  const worker = createKicker(
    (running) => drain(running),
    POLL_INTERVAL_MS,
    (error) => logFailure(log, error, {}, 'e-mail worker failed'),
  );

  return {
    transport: transport.name,
    async send(request) {
      const rendered = render(request);
      const id = await queue.enqueue({ kind: request.kind, recipient: request.to, ...rendered });
      log.debug({ mailId: String(id), to: request.to, kind: request.kind }, 'e-mail queued');
      worker.kick();
    },
    deliverDue: () => drain(() => true),
    deleteDelivered: (days) => queue.deleteFinished(days),
    start: worker.start,
    stop: worker.stop,
  };
}
