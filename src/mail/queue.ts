// The mail_messages table as a work queue shared by every replica. A message is recorded before
// any attempt; claiming it takes a lease (next_attempt_at pushed past the longest attempt) in the
// same statement that counts the attempt, and skips rows another replica has locked, so two
// workers never hold the same message. A replica that stops gives back what it has not started;
// one that dies holds its messages until the lease runs out, then any replica takes them again.
// Times come from the database's clock, not a replica's.
import type { Prisma } from '../db/database.ts';
import { backoffSeconds } from '../jobs/backoff.ts';
import type { OutgoingMail } from './transport.ts';

export interface ClaimedMail extends OutgoingMail {
  /** Attempts so far, this one included. */
  readonly attempts: number;
}

export interface MailQueueSettings {
  /** How long a claimed message stays out of other workers' reach. */
  readonly leaseSeconds: number;
  readonly retryDelay: number;
  readonly maxAttempts: number;
}

export const MAX_RETRY_DELAY = 3600;

/** Exponential back-off after the n-th failed attempt, capped at one hour. */
export function retryDelaySeconds(attempts: number, retryDelay: number): number {
  return backoffSeconds(attempts, retryDelay, MAX_RETRY_DELAY);
}

export function createMailQueue(prisma: Prisma, { leaseSeconds, retryDelay, maxAttempts }: MailQueueSettings) {
  return {
    async enqueue(mail: { kind: string; recipient: string; subject: string; html: string; text: string }): Promise<bigint> {
      const row = await prisma.mailMessage.create({ data: { ...mail, status: 'pending' }, select: { id: true } });
      return row.id;
    },

    async claimDue(limit: number): Promise<ClaimedMail[]> {
      const rows = await prisma.$queryRaw<{ id: bigint; kind: string; recipient: string; subject: string; html: string; text: string; attempts: number }[]>`
        UPDATE mail_messages
           SET attempts = attempts + 1,
               next_attempt_at = now() + ${leaseSeconds}::int * interval '1 second'
         WHERE id IN (SELECT id FROM mail_messages
                       WHERE status = 'pending' AND next_attempt_at <= now()
                       ORDER BY next_attempt_at
                       LIMIT ${limit}::int
                       FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, recipient, subject, html, text, attempts`;
      return rows.map(({ recipient, id, attempts, ...rest }) => ({ ...rest, id: BigInt(id), to: recipient, attempts: Number(attempts) }));
    },

    /**
     * Gives back messages claimed but not handed to the transport (the worker is stopping): due
     * again at once for any replica, and the claim not counted as an attempt.
     */
    async release(mails: readonly ClaimedMail[]): Promise<void> {
      for (const mail of mails) {
        await prisma.$executeRaw`
          UPDATE mail_messages SET attempts = attempts - 1, next_attempt_at = now()
           WHERE id = ${mail.id} AND status = 'pending' AND attempts = ${mail.attempts}::int`;
      }
    },

    /** Erases the body on the way: it may hold a single-use link. */
    async markSent(mail: ClaimedMail): Promise<void> {
      await prisma.mailMessage.updateMany({
        where: { id: mail.id, status: 'pending' },
        data: { status: 'sent', sentAt: new Date(), html: '', text: '', lastError: null },
      });
    },

    /**
     * Schedules the next attempt, or gives up after maxAttempts (the body is erased then too).
     * Only while this worker still holds the message: a late answer must not move another's lease.
     */
    async markFailed(mail: ClaimedMail, reason: string): Promise<'retry' | 'failed'> {
      if (mail.attempts >= maxAttempts) {
        await prisma.mailMessage.updateMany({
          where: { id: mail.id, status: 'pending', attempts: mail.attempts },
          data: { status: 'failed', lastError: reason, html: '', text: '' },
        });
        return 'failed';
      }
      const delay = retryDelaySeconds(mail.attempts, retryDelay);
      await prisma.$executeRaw`
        UPDATE mail_messages
           SET last_error = ${reason}, next_attempt_at = now() + ${delay}::int * interval '1 second'
         WHERE id = ${mail.id} AND status = 'pending' AND attempts = ${mail.attempts}::int`;
      return 'retry';
    },

    /** Forgets delivered and abandoned messages older than `days` (their bodies are already gone). */
    async deleteFinished(days: number): Promise<number> {
      const { count } = await prisma.mailMessage.deleteMany({
        where: { status: { in: ['sent', 'failed'] }, createdAt: { lt: new Date(Date.now() - days * 86_400_000) } },
      });
      return count;
    },
  };
}

export type MailQueue = ReturnType<typeof createMailQueue>;
