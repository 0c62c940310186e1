// The audit trail written in batches (src/audit/trail.ts), on every store: what is recorded at
// once goes out in one INSERT, every row arrives, in the order recorded and with the moment it
// was recorded; a batch that cannot be written reports each of its rows, and writing resumes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import type { Database } from '../../src/db/database.ts';
import { createAuditTrail } from '../../src/audit/trail.ts';
import type { AuditEntry } from '../../src/audit/trail.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';

describe.each(STORES)('audit batches on %s', (kind) => {
  let store: TestStore;
  let db: Database;
  let inserts = 0;

  beforeAll(async () => {
    store = await createTestStore(kind);
    db = await openDatabase(store.source, {
      migrate: true,
      onQuery: ({ query }) => {
        if (/INSERT INTO "?(public"?\.)?"?audit_events/.test(query)) inserts++;
      },
    });
  });
  afterAll(async () => {
    await db?.close();
    await store?.dispose();
  });

  const rowsOf = (target: string) =>
    db.prisma.auditEvent.findMany({ where: { target }, orderBy: { id: 'asc' }, select: { action: true, at: true, details: true } });

  it('writes what is recorded at once in one INSERT, every row in the order recorded', async () => {
    const failures: AuditEntry[] = [];
    const trail = createAuditTrail({ prisma: db.prisma, onError: (_error, entry) => failures.push(entry) });
    const before = inserts;
    const recordedAt: number[] = [];
    for (let i = 0; i < 40; i++) {
      recordedAt.push(Date.now());
      trail.record({ action: 'test.first', target: 'batch-at-once', details: { i } });
    }
    await trail.settled();
    expect(failures).toEqual([]);
    expect(inserts - before).toBe(1);
    const rows = await rowsOf('batch-at-once');
    expect(rows.map((row) => (row.details as { i: number }).i)).toEqual([...Array(40).keys()]);
    // Each row keeps when it was recorded, not when its batch was written.
    expect(rows[0]!.at.getTime()).toBeLessThanOrEqual(recordedAt[39]!);
  });

  it('keeps the order across batches: what is recorded while one is written follows it', async () => {
    const trail = createAuditTrail({ prisma: db.prisma, onError: () => {} });
    const before = inserts;
    let next = 0;
    const recordSome = (count: number) => {
      for (let i = 0; i < count; i++) trail.record({ action: 'test.ordered', target: 'batch-ordered', details: { i: next++ } });
    };
    recordSome(5);
    // Recorded on later turns of the event loop, some while the first batch is being written.
    for (let turn = 0; turn < 10; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      recordSome(3);
    }
    await trail.settled();
    const rows = await rowsOf('batch-ordered');
    expect(rows.map((row) => (row.details as { i: number }).i)).toEqual([...Array(next).keys()]);
    expect(inserts - before).toBeLessThan(next);
  });

  it('reports every row of a batch it cannot write, and writes the next one', async () => {
    const failures: AuditEntry[] = [];
    const trail = createAuditTrail({ prisma: db.prisma, onError: (_error, entry) => failures.push(entry) });
    await db.prisma.$executeRawUnsafe('ALTER TABLE audit_events RENAME TO audit_events_away');
    try {
      for (let i = 0; i < 3; i++) trail.record({ action: 'test.lost', target: 'batch-lost', details: { i } });
      await trail.settled();
    } finally {
      await db.prisma.$executeRawUnsafe('ALTER TABLE audit_events_away RENAME TO audit_events');
    }
    expect(failures.map((entry) => entry.details)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);

    trail.record({ action: 'test.kept', target: 'batch-lost' });
    await trail.settled();
    expect((await rowsOf('batch-lost')).map((row) => row.action)).toEqual(['test.kept']);
  });
});
