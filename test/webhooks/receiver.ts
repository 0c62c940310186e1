// A relying app's webhook endpoint: a loopback HTTP server that verifies every request with the
// two libraries an app would use, standardwebhooks and svix, unchanged, and records what came.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { expect } from 'vitest';
import type { Prisma } from '../../src/db/database.ts';

export interface Received {
  id: string;
  type: string;
  data: Record<string, any>;
  body: string;
  headers: IncomingHttpHeaders;
  /** Both libraries accepted the signature. */
  verified: boolean;
}

export interface Receiver {
  url: string;
  /** Set once the endpoint is registered. */
  secret: string;
  received: Received[];
  /** The status to answer each request with (default 200). */
  answer: (message: Received) => number;
  /** Requests being answered right now, by webhook-id (to catch concurrent duplicates). */
  maxConcurrentPerId: number;
  ofType(type: string, sub?: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const inProgress = new Map<string, number>();
  const receiver: Receiver = {
    url: '',
    secret: '',
    received: [],
    answer: () => 200,
    maxConcurrentPerId: 0,
    ofType: (type, sub) => receiver.received.filter((message) => message.type === type && (sub === undefined || message.data.sub === sub)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = req.headers as Record<string, string>;
    const id = headers['webhook-id'] ?? '';
    inProgress.set(id, (inProgress.get(id) ?? 0) + 1);
    receiver.maxConcurrentPerId = Math.max(receiver.maxConcurrentPerId, inProgress.get(id)!);
    let verified = false;
    let parsed: { type?: string; data?: Record<string, unknown> } = {};
    try {
      parsed = new StandardWebhook(receiver.secret).verify(body, headers) as typeof parsed;
      new SvixWebhook(receiver.secret).verify(body, headers);
      verified = true;
    } catch {}
    const message: Received = { id, type: parsed.type ?? '', data: (parsed.data ?? {}) as Record<string, any>, body, headers: req.headers, verified };
    receiver.received.push(message);
    // Let another request for the same id arrive meanwhile, if a second worker sent one.
    await new Promise((resolve) => setImmediate(resolve));
    inProgress.set(id, inProgress.get(id)! - 1);
    res.statusCode = receiver.answer(message);
    res.end();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

/** Polls `check` until it holds (at most `seconds`). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, seconds = 30): Promise<void> {
  const until = performance.now() + seconds * 1000;
  while (!(await check())) {
    if (performance.now() > until) expect.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until no delivery is pending any more (delivered or given up). */
export async function drained(prisma: Prisma, seconds = 30): Promise<void> {
  await eventually(async () => (await prisma.webhookDelivery.count({ where: { status: 'pending' } })) === 0, 'the delivery queue to drain', seconds);
}
