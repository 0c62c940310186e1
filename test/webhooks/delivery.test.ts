// Webhooks (issue 7), how they are delivered: retried with back-off under the same webhook-id
// until a 2xx, given up after WEBHOOK_MAX_ATTEMPTS, never through a redirect; sign-ins never
// wait for an endpoint; two workers never send one delivery at the same time; a replay sends
// the same id again.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createSesame } from '../../src/server.ts';
import { endpointUrlProblem } from '../../src/webhooks/endpoints.ts';
import { retryDelaySeconds, retrySpanSeconds } from '../../src/webhooks/queue.ts';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { freePort, startServer } from '../support/server.ts';
import { beginSignIn, discover, signIn } from '../support/rp.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import { drained, eventually, startReceiver } from './receiver.ts';
import type { Receiver } from './receiver.ts';

describe('webhook settings and endpoint URLs', () => {
  it('doubles the delay after each failure up to six hours, and keeps trying for more than a day by default', () => {
    expect([1, 2, 3, 4].map((attempts) => retryDelaySeconds(attempts, 30))).toEqual([30, 60, 120, 240]);
    expect(retryDelaySeconds(40, 30)).toBe(6 * 3600);
    expect(retrySpanSeconds(15, 30)).toBeGreaterThan(24 * 3600);
    expect(retrySpanSeconds(1, 30)).toBe(0);
  });

  it.each([
    ['https://hooks.example.com/sesame', false, undefined],
    ['http://hooks.example.com/sesame', false, undefined],
    ['http://hooks.example.com/sesame', true, 'must be https:// in production (plain http only to localhost)'],
    ['http://127.0.0.1:9000/hooks', true, undefined],
    ['http://localhost:9000/hooks', true, undefined],
    ['ftp://hooks.example.com/', false, 'must be an http(s) URL'],
    ['not a url', false, 'must be an http(s) URL'],
    ['https://user:pw@hooks.example.com/', false, 'must not carry credentials'],
    ['https://hooks.example.com/#x', false, 'must not have a fragment'],
  ])('%s (production: %s) → %s', (url, production, problem) => {
    expect(endpointUrlProblem(url, { production })).toBe(problem);
  });
});

describe.each(STORES)('webhook delivery on %s', (kind) => {
  let f: Fixture;
  const webhooks = () => f.server.sesame.webhooks;
  const prisma = () => f.server.db.prisma;
  let people = 0;
  const newUser = () => f.server.sesame.users.create({ email: `delivery-${++people}@example.com` });

  /** A receiver registered for user.created only, removed again after `use`. */
  async function withReceiver(use: (hook: Receiver, endpointId: string) => Promise<void>, events = ['user.created']) {
    const hook = await startReceiver();
    const { id, secret } = await webhooks().addEndpoint({ url: hook.url, events });
    hook.secret = secret;
    try {
      await use(hook, id);
    } finally {
      await webhooks().endpoints.remove(id);
      await hook.close();
    }
  }

  beforeAll(async () => {
    f = await startFixture(kind, { WEBHOOK_RETRY_DELAY: '1', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT: '20' });
  });
  afterAll(() => f?.stop());

  it('retries a delivery answered 500 with the same webhook-id, and stops once it gets a 2xx', async () => {
    await withReceiver(async (hook, endpointId) => {
      const seen = new Set<string>();
      hook.answer = (message) => (seen.has(message.id) ? 200 : (seen.add(message.id), 500));
      const user = await newUser();
      await eventually(() => hook.ofType('user.created', user.id).length === 2, 'the retry');
      await drained(prisma());
      const received = hook.ofType('user.created', user.id);
      expect(received.length).toBe(2);
      expect(received[1]!.id).toBe(received[0]!.id);
      expect(received.every((message) => message.verified)).toBe(true);
      expect(received[1]!.headers['webhook-signature']).not.toBe(received[0]!.headers['webhook-signature']);
      const [delivery] = await webhooks().deliveries.list({ endpointId });
      expect(delivery).toMatchObject({ eventId: received[0]!.id, status: 'delivered', attempts: 2, lastStatus: 200, lastError: null });
    });
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS, and never follows a redirect', async () => {
    await withReceiver(async (hook, endpointId) => {
      hook.answer = () => 307;
      const user = await newUser();
      await eventually(async () => (await webhooks().deliveries.list({ endpointId, failed: true })).length === 1, 'the delivery to be given up');
      expect(hook.ofType('user.created', user.id).length).toBe(3);
      const [delivery] = await webhooks().deliveries.list({ endpointId });
      expect(delivery).toMatchObject({ status: 'failed', attempts: 3, lastStatus: 307, lastError: 'HTTP 307 (redirects are not followed)', nextAttemptAt: null });
    });
  });

  it('sends an event again with the same webhook-id when it is replayed', async () => {
    await withReceiver(async (hook, endpointId) => {
      const user = await newUser();
      const [first] = await (async () => {
        await eventually(() => hook.ofType('user.created', user.id).length === 1, 'the delivery');
        return hook.ofType('user.created', user.id);
      })();
      await drained(prisma());
      expect(await webhooks().deliveries.replay(first!.id, endpointId)).toBe(1);
      await eventually(() => hook.ofType('user.created', user.id).length === 2, 'the replay');
      const [again] = hook.ofType('user.created', user.id).slice(1);
      expect(again!.id).toBe(first!.id);
      expect(again!.body).toBe(first!.body);
      expect(again!.verified).toBe(true);
      expect(await webhooks().deliveries.replay('msg_unknown', endpointId)).toBe(0);
    });
  });

  it('finishes a sign-in while the only endpoints are down or never answer: it waits for no delivery', async () => {
    // One endpoint refuses connections, the other accepts them and never answers.
    const refused = `http://127.0.0.1:${await freePort()}/hooks`;
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const ids = [
      (await webhooks().addEndpoint({ url: refused, events: ['session.created'] })).id,
      (await webhooks().addEndpoint({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hooks`, events: ['session.created'] })).id,
    ];
    try {
      const web = await discover(f.issuer, f.firstParty.id, f.firstParty.secret);
      const callback = await signIn(new Browser(f.issuer), await beginSignIn(web, `${RP}/intranet/cb`), f.alice.email, PASSWORD);
      expect(new URL(callback).searchParams.get('code')).toBeTruthy();
      for (const endpointId of ids) {
        const deliveries = await webhooks().deliveries.list({ endpointId });
        expect(deliveries.map((d) => [d.type, d.status])).toEqual([['session.created', 'pending']]);
      }
    } finally {
      for (const id of ids) await webhooks().endpoints.remove(id);
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('never has two workers send the same delivery, also when both claim at once', async () => {
    const second = kind === 'pglite' ? f.server.db : await openDatabase(f.store.source);
    const other = await createSesame({ config: f.server.config, db: second, log: createLogger({ level: 'silent' }) });
    try {
      await withReceiver(async (hook) => {
        const users = await Promise.all(Array.from({ length: 60 }, () => newUser()));
        await Promise.all([webhooks().deliverDue(), other.webhooks.deliverDue(), webhooks().deliverDue(), other.webhooks.deliverDue()]);
        await drained(prisma());
        const ids = users.map((user) => hook.ofType('user.created', user.id));
        expect(ids.every((received) => received.length === 1)).toBe(true);
        expect(hook.maxConcurrentPerId).toBe(1);
      });
    } finally {
      await other.close();
      if (second !== f.server.db) await second.close();
    }
  });
});

describe.each(STORES)('webhook secrets at rest on %s', (kind) => {
  it('seals the secrets stored in the clear once SECRETS_ENCRYPTION_KEY is set, and still signs with them', async () => {
    const store = await createTestStore(kind);
    const hook = await startReceiver();
    try {
      const plain = await startServer(store);
      const { id, secret } = await plain.sesame.webhooks.addEndpoint({ url: hook.url });
      hook.secret = secret;
      expect((await plain.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } })).secret).toBe(secret);
      await plain.stop();

      const sealed = await startServer(store, { SECRETS_ENCRYPTION_KEY: 'webhook-sealing-test-key-0123456789abcdef' });
      try {
        expect((await sealed.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } })).secret).toMatch(/^sealed:v1\./);
        const user = await sealed.sesame.users.create({ email: 'sealed@example.com' });
        await eventually(() => hook.ofType('user.created', user.id).length === 1, 'the delivery');
        expect(hook.ofType('user.created', user.id)[0]!.verified).toBe(true);
      } finally {
        await sealed.stop();
      }
    } finally {
      await hook.close();
      await store.dispose();
    }
  });
});
