// Webhooks (issue 7) through the admin CLI as an operator runs it, beside a running server:
// add prints the signing secret once (stored sealed), list, deliveries, replay and remove, with
// --json and the usual exit codes (1 refused, 2 a command line that cannot run), all audited.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, parsed, runAdmin } from '../support/admin-cli.ts';
import { freePort, startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';
import { drained, eventually, startReceiver } from './receiver.ts';
import type { Receiver } from './receiver.ts';

const KEY = 'webhook-cli-test-encryption-key-0123456789';

describe.each(STORES)('admin webhooks on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  let hook: Receiver;
  let cwd: string;
  let endpointId: string;
  let refused: string;
  const env = () => ({ ...store.env, SECRETS_ENCRYPTION_KEY: KEY, WEBHOOK_RETRY_DELAY: '1', WEBHOOK_MAX_ATTEMPTS: '2' });
  const admin = (...args: string[]) => runAdmin(env(), cwd, args);

  beforeAll(async () => {
    store = await createTestStore(kind);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-webhooks-cli-'));
    server = await startServer(store, { SECRETS_ENCRYPTION_KEY: KEY, WEBHOOK_RETRY_DELAY: '1', WEBHOOK_MAX_ATTEMPTS: '2' });
    hook = await startReceiver();
    refused = `http://127.0.0.1:${await freePort()}/down`;
  });
  afterAll(async () => {
    await server?.stop();
    await hook?.close();
    await store?.dispose();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('adds an endpoint, showing its whsec_ secret once and storing it sealed', async () => {
    const added = parsed<{ id: string; url: string; events: string[]; secret: string }>(await admin('webhooks', 'add', '--url', hook.url, '--event', 'user.created', '--event', 'user.deleted', '--json'));
    expect(added).toEqual({ id: expect.stringMatching(/^ep_[\w-]{16}$/), url: hook.url, events: ['user.created', 'user.deleted'], secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
    endpointId = added.id;
    hook.secret = added.secret;
    const row = await server.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: added.id } });
    expect(row.secret).toMatch(/^sealed:v1\./);
    expect(row.secret).not.toContain(added.secret.slice(6));

    const text = await admin('webhooks', 'add', '--url', refused);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^secret:\s+whsec_\S+$/m);
    expect(text.stdout).toMatch(/^events:\s+all$/m);
    expect(text.stdout).toMatch(/shown only this once/);
  });

  it('lists the endpoints without their secrets', async () => {
    const run = await admin('webhooks', 'list', '--json');
    const all = parsed<{ id: string; url: string; events: string[]; pending: number; failed: number }[]>(run);
    expect(all.map((e) => e.url)).toEqual([hook.url, refused]);
    expect(run.stdout).not.toMatch(/whsec_|sealed:/);
    const table = await admin('webhooks', 'list');
    expect(table.stdout).toMatch(/^ID\s+URL\s+EVENTS\s+PENDING\s+FAILED/);
  });

  it('delivers user.created for an account added with the CLI, signed with the secret it printed', async () => {
    const user = parsed<{ id: string }>(await runAdmin(env(), cwd, ['users', 'add', '--email', 'cli-hook@example.com', '--json']));
    await eventually(() => hook.ofType('user.created', user.id).length === 1, 'user.created');
    expect(hook.ofType('user.created', user.id)[0]).toMatchObject({ verified: true, data: { sub: user.id, email: 'cli-hook@example.com' } });
  });

  it('shows deliveries, only the failed ones with --failed, and replays an event with the same id', async () => {
    // The second endpoint refuses connections: it is given up after two attempts.
    await drained(server.db.prisma);
    const delivered = parsed<{ event_id: string; type: string; endpoint_id: string; status: string; attempts: number }[]>(await admin('webhooks', 'deliveries', '--endpoint', endpointId, '--json'));
    expect(delivered).toEqual([expect.objectContaining({ type: 'user.created', endpoint_id: endpointId, status: 'delivered', attempts: 1 })]);
    const failed = parsed<{ status: string; endpoint_id: string }[]>(await admin('webhooks', 'deliveries', '--failed', '--json'));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((d) => d.status === 'failed' && d.endpoint_id !== endpointId)).toBe(true);
    expect((await admin('webhooks', 'deliveries')).stdout).toMatch(/^EVENT ID\s+TYPE\s+ENDPOINT\s+STATUS/);

    const eventId = delivered[0]!.event_id;
    expect(parsed(await admin('webhooks', 'replay', eventId, '--endpoint', endpointId, '--json'))).toEqual({ event_id: eventId, queued: 1 });
    await eventually(() => hook.received.filter((message) => message.id === eventId).length === 2, 'the replay');
    expect(hook.received.filter((message) => message.id === eventId).every((message) => message.verified)).toBe(true);
  });

  it('refuses what it cannot do, with exit code 1 for refused input and 2 for a command line that cannot run', async () => {
    expectRefused(await admin('webhooks', 'add', '--url', hook.url, '--event', 'user.exploded'), /unknown event "user\.exploded"/, 2);
    expectRefused(await admin('webhooks', 'add', '--url', 'ftp://hooks.example.com/'), /must be an http\(s\) URL/, 1);
    expectRefused(await admin('webhooks', 'deliveries', '--limit', '0'), /--limit 0/, 2);
    expectRefused(await admin('webhooks', 'replay', 'msg_nothing'), /no event msg_nothing/, 1);
    expectRefused(await admin('webhooks', 'remove', 'ep_nothing', '--yes'), /no webhook endpoint ep_nothing/, 1);
    expectRefused(await admin('webhooks', 'remove', endpointId), /--yes/, 2);
  });

  it('removes an endpoint with --yes, and every change is in the audit log', async () => {
    expect(parsed(await admin('webhooks', 'remove', endpointId, '--yes', '--json'))).toEqual({ id: endpointId, removed: true });
    const left = parsed<{ id: string }[]>(await admin('webhooks', 'list', '--json'));
    expect(left.map((e) => e.id)).not.toContain(endpointId);
    const audit = await server.db.prisma.auditEvent.findMany({ where: { action: { startsWith: 'webhook.' } }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['webhook.add', 'webhook.add', 'webhook.replay', 'webhook.remove']);
    expect(JSON.stringify(audit.map(({ target, details }) => ({ target, details })))).not.toMatch(/whsec_/);
  });
});
