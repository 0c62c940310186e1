// The endpoints an admin registers to receive events. Each gets its own signing secret
// (`whsec_` + base64 of 32 random bytes, the Standard Webhooks form), shown once and stored
// sealed with SECRETS_ENCRYPTION_KEY like the signing keys: whoever reads the database cannot
// forge events to the apps.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Prisma } from '../db/database.ts';
import type { Sealer } from '../oidc/sealing.ts';
import { isLoopbackHost } from '../http/loopback.ts';
import { EVENT_TYPES } from './events.ts';
import type { EventType } from './events.ts';

export class WebhookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookError';
  }
}

/**
 * Why `url` cannot receive events, or undefined. Payloads carry names and e-mail addresses, so
 * in production they travel over TLS; plain http stays allowed to a receiver on the same host.
 */
export function endpointUrlProblem(url: string, { production }: { production: boolean }): string | undefined {
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) return 'must be an http(s) URL';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (parsed.hash) return 'must not have a fragment';
  if (production && parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) return 'must be https:// in production (plain http only to localhost)';
  return undefined;
}

export const newEndpointSchema = z.object({
  url: z.string().trim().min(1).max(2000),
  events: z.array(z.enum(EVENT_TYPES, { message: `must be one of ${EVENT_TYPES.join(', ')}` })).default([]),
});

export interface EndpointRecord {
  id: string;
  url: string;
  events: EventType[];
  createdAt: Date;
  pending: number;
  failed: number;
}

/** The associated data a secret is sealed with: it opens only as this endpoint's. */
export const secretContext = (endpointId: string) => `webhook-endpoint:${endpointId}`;

export function createWebhookEndpoints(prisma: Prisma, sealer: Sealer, { production }: { production: boolean }) {
  return {
    /** Registers an endpoint; the secret is returned this once and never again. */
    async add(input: { url: string; events?: readonly string[] }): Promise<{ id: string; secret: string; url: string; events: EventType[] }> {
      const { url, events } = newEndpointSchema.parse(input);
      const problem = endpointUrlProblem(url, { production });
      if (problem) throw new WebhookError(`--url ${url}: ${problem}`);
      const id = `ep_${randomBytes(12).toString('base64url')}`;
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const unique = [...new Set(events)];
      await prisma.webhookEndpoint.create({ data: { id, url, events: unique, secret: sealer.seal(secret, secretContext(id)) } });
      return { id, secret, url, events: unique };
    },

    async list(): Promise<EndpointRecord[]> {
      const rows = await prisma.$queryRaw<{ id: string; url: string; events: string[]; created_at: Date; pending: number; failed: number }[]>`
        SELECT e.id, e.url, e.events, e.created_at,
               count(d.id) FILTER (WHERE d.status = 'pending')::int AS pending,
               count(d.id) FILTER (WHERE d.status = 'failed')::int AS failed
          FROM webhook_endpoints e LEFT JOIN webhook_deliveries d ON d.endpoint_id = e.id
         GROUP BY e.id ORDER BY e.created_at, e.id`;
      return rows.map((row) => ({ id: row.id, url: row.url, events: row.events as EventType[], createdAt: row.created_at, pending: Number(row.pending), failed: Number(row.failed) }));
    },

    async exists(id: string): Promise<boolean> {
      return (await prisma.webhookEndpoint.count({ where: { id } })) === 1;
    },

    /**
     * Seals again the secrets stored in the clear or under SECRETS_ENCRYPTION_KEY_PREVIOUS (at
     * start, like the signing keys); returns how many.
     */
    async sealStored(): Promise<number> {
      if (!sealer.sealing) return 0;
      let sealed = 0;
      for (const row of await prisma.webhookEndpoint.findMany({ select: { id: true, secret: true } })) {
        if (!sealer.isStale(row.secret)) continue;
        const secret = sealer.seal(sealer.open(row.secret, secretContext(row.id)), secretContext(row.id));
        // Conditional on the value read, so that replicas starting together do not both write.
        const { count } = await prisma.webhookEndpoint.updateMany({ where: { id: row.id, secret: row.secret }, data: { secret } });
        sealed += count;
      }
      return sealed;
    },

    /** Deletes the endpoint with its deliveries (pending ones are never sent); false if unknown. */
    async remove(id: string): Promise<boolean> {
      const { count } = await prisma.webhookEndpoint.deleteMany({ where: { id } });
      return count === 1;
    },
  };
}

export type WebhookEndpoints = ReturnType<typeof createWebhookEndpoints>;
