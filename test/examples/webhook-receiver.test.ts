// clients/examples/webhook-receiver against a running Sésame: registered as an endpoint, it
// receives the user events of real account changes and its own table converges; a message with
// a forged signature is refused and changes nothing; a message seen before is not applied twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../clients/examples/webhook-receiver/receiver.ts';
import { eventually, openPort, startSesame } from './harness.ts';
import type { Harness } from './harness.ts';

interface Row {
  sub: string;
  email: string;
  name: string | null;
  roles: string;
  disabled: number;
  updated_at: string;
}

describe('example: webhook receiver (standardwebhooks, node:sqlite)', () => {
  let sesame: Harness;
  let receiver: Awaited<ReturnType<typeof openPort>>;
  let dir: string;
  let table: DatabaseSync;
  let secret: string;

  beforeAll(async () => {
    sesame = await startSesame();
    receiver = await openPort();
    ({ secret } = await sesame.server.sesame.webhooks.addEndpoint({ url: `${receiver.origin}/webhooks/sesame`, events: ['user.created', 'user.updated', 'user.deleted'] }));
    dir = mkdtempSync(join(tmpdir(), 'sesame-webhook-receiver-'));
    receiver.serve(createApp({ secret, databasePath: join(dir, 'users.sqlite') }));
    // The test reads the receiver's table as another process would.
    table = new DatabaseSync(join(dir, 'users.sqlite'), { readOnly: true });
  });

  afterAll(async () => {
    table?.close();
    await receiver?.stop();
    await sesame?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const row = (sub: string) => table.prepare('SELECT * FROM users WHERE sub = ?').get(sub) as Row | undefined;
  const rowCount = () => (table.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  const until = <T>(check: () => T | undefined) => eventually(check, { timeoutMs: 20_000 });

  it('creates, updates and deletes its row as the account is created, changed and removed', async () => {
    const { users } = sesame.server.sesame;
    const user = await users.create({ email: 'gus@example.com', password: 'correct horse battery staple', emailVerified: true, givenName: 'Gus', familyName: 'Grant' });
    const created = await until(() => row(user.id));
    expect(created).toMatchObject({ email: 'gus@example.com', name: 'Gus Grant', roles: '["member"]', disabled: 0 });

    await users.setRoles(user.id, ['admin', 'member']);
    await until(() => (row(user.id)?.roles === '["admin","member"]' ? true : undefined));

    await users.setDisabled(user.id, true);
    await until(() => (row(user.id)?.disabled === 1 ? true : undefined));

    await users.remove(user.id);
    await until(() => (row(user.id) === undefined ? true : undefined));
  });

  it('refuses a forged signature with 400 and changes nothing', async () => {
    const before = rowCount();
    const body = JSON.stringify({ type: 'user.created', timestamp: new Date().toISOString(), data: { sub: 'forged', email: 'mallory@example.com', roles: ['admin'], updated_at: new Date().toISOString() } });
    const forger = new Webhook(`whsec_${Buffer.from('not the endpoint secret, at all!').toString('base64')}`);
    const now = new Date();
    const response = await fetch(`${receiver.origin}/webhooks/sesame`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_forged', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': forger.sign('msg_forged', now, body) },
      body,
    });
    expect(response.status).toBe(400);
    expect(row('forged')).toBeUndefined();
    expect(rowCount()).toBe(before);
  });

  it('applies a message once: a second delivery with the same webhook-id is acknowledged and ignored', async () => {
    const signer = new Webhook(secret);
    const send = (id: string, email: string) => {
      const now = new Date();
      const body = JSON.stringify({ type: 'user.updated', timestamp: now.toISOString(), data: { sub: 'sub-once', email, roles: [], disabled: false, updated_at: now.toISOString() } });
      return fetch(`${receiver.origin}/webhooks/sesame`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signer.sign(id, now, body) },
        body,
      });
    };
    expect((await send('msg_once', 'first@example.com')).status).toBe(204);
    expect((await send('msg_once', 'second@example.com')).status).toBe(204);
    expect(row('sub-once')?.email).toBe('first@example.com');
  });
});
