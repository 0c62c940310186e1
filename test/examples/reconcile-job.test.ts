// clients/examples/reconcile-job against a running Sésame: the first run copies every account
// page by page; the next applies only what changed since (an update, a new account, a removal).
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../clients/examples/reconcile-job/reconcile.ts';
import { PASSWORD, registerExample, startSesame } from './harness.ts';
import type { Harness } from './harness.ts';

describe('example: reconcile job (users feed)', () => {
  let sesame: Harness;
  let dir: string;
  let run: () => ReturnType<typeof reconcile>;

  beforeAll(async () => {
    // No settle delay: a change is in the feed as soon as it is committed (the default holds
    // changes back a few seconds, see src/accounts/user-changes.ts).
    sesame = await startSesame({ USERS_FEED_SETTLE: '0' });
    const { clientId, secret } = await registerExample(sesame.server, 'reconcile-job');
    dir = mkdtempSync(join(tmpdir(), 'sesame-reconcile-'));
    run = () => reconcile({ issuer: sesame.issuer, clientId, clientSecret: secret!, databasePath: join(dir, 'users.sqlite'), pageSize: 2 });
  });

  afterAll(async () => {
    await sesame?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function table() {
    const db = new DatabaseSync(join(dir, 'users.sqlite'), { readOnly: true });
    try {
      return db.prepare('SELECT email, roles FROM users ORDER BY email').all() as { email: string; roles: string }[];
    } finally {
      db.close();
    }
  }

  const person = (email: string) => sesame.server.sesame.users.create({ email, password: PASSWORD, emailVerified: true });

  it('copies every account on the first run, then only the changes', async () => {
    const { users } = sesame.server.sesame;
    const hana = await person('hana@example.com');
    const ivan = await person('ivan@example.com');
    await person('jude@example.com');

    expect(await run()).toEqual({ upserted: 3, removed: 0, pages: 2 });
    expect(table()).toEqual([
      { email: 'hana@example.com', roles: '["member"]' },
      { email: 'ivan@example.com', roles: '["member"]' },
      { email: 'jude@example.com', roles: '["member"]' },
    ]);

    await users.setRoles(hana.id, ['admin', 'member']);
    await users.remove(ivan.id);
    await person('kim@example.com');

    expect(await run()).toEqual({ upserted: 2, removed: 1, pages: 2 });
    expect(table()).toEqual([
      { email: 'hana@example.com', roles: '["admin","member"]' },
      { email: 'jude@example.com', roles: '["member"]' },
      { email: 'kim@example.com', roles: '["member"]' },
    ]);

    expect(await run()).toEqual({ upserted: 0, removed: 0, pages: 1 });
  });
});
