// A code is accepted once, even when two requests bring it at the same moment: accepting a TOTP
// code and spending a recovery code are each one conditional UPDATE (accounts/totp.ts,
// accounts/recovery-codes.ts), raced here by 20 callers on both stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/db/database.ts';
import type { Database } from '../../src/db/database.ts';
import { createTotp } from '../../src/accounts/totp.ts';
import { createRecoveryCodes } from '../../src/accounts/recovery-codes.ts';
import { createSealer } from '../../src/oidc/sealing.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import type { TestStore } from '../support/stores.ts';
import { codeAt } from './helpers.ts';

describe.each(STORES)('second factors under concurrent use (%s)', (kind) => {
  let store: TestStore;
  let db: Database;
  const sealer = createSealer('a test key for secrets at rest, long enough');

  beforeAll(async () => {
    store = await createTestStore(kind);
    db = await openDatabase(store.source, { migrate: true });
  });
  afterAll(async () => {
    await db?.close();
    await store?.dispose();
  });

  const person = async () => {
    const id = randomUUID();
    const email = `${id}@example.org`;
    await db.prisma.user.create({ data: { id, email, emailKey: email, roles: [] } });
    return { id, email };
  };

  it('accepts one TOTP code once, and never an older one after it; the secret is stored sealed', async () => {
    const totp = createTotp({ prisma: db.prisma, sealer, issuerName: 'Sésame' });
    const user = await person();
    const { secret, uri } = (await totp.begin(user))!;
    expect(uri).toMatch(/^otpauth:\/\/totp\/S%C3%A9same:.+\?.*secret=/);
    const row = await db.prisma.totpFactor.findUniqueOrThrow({ where: { userId: user.id } });
    expect(row.secret.startsWith('sealed:v1.')).toBe(true);
    expect(row.secret).not.toContain(secret);
    expect(await totp.status(user.id)).toBe('pending');
    expect(await totp.verify(user.id, codeAt(secret)), 'not before it is confirmed').toBe(false);
    expect(await totp.confirm(user.id, codeAt(secret, -1))).toBe(true);
    expect(await totp.status(user.id)).toBe('confirmed');
    expect(await totp.begin(user), 'a confirmed app is not replaced by starting again').toBeNull();

    const code = codeAt(secret, 1);
    const results = await Promise.all(Array.from({ length: 20 }, () => totp.verify(user.id, code)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await totp.verify(user.id, codeAt(secret)), 'an older step after a newer one').toBe(false);
    expect(await totp.remove(user.id)).toBe(true);
    expect(await totp.status(user.id)).toBe('none');
  });

  it('spends a recovery code once, whatever its case or dashes, and counts what is left', async () => {
    const recoveryCodes = createRecoveryCodes({ prisma: db.prisma });
    const user = await person();
    const codes = await recoveryCodes.generate(user.id);
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
    const stored = await db.prisma.recoveryCode.findMany({ where: { userId: user.id } });
    expect(stored.some((row) => codes.some((code) => row.codeHash.includes(code.replaceAll('-', ''))))).toBe(false);

    const typed = ` ${codes[3]!.toUpperCase().replaceAll('-', ' ')} `;
    const results = await Promise.all(Array.from({ length: 20 }, () => recoveryCodes.use(user.id, typed)));
    expect(results.filter((result) => result !== null)).toEqual([{ remaining: 9 }]);
    expect(await recoveryCodes.use(user.id, codes[3]!)).toBeNull();
    expect(await recoveryCodes.use((await person()).id, codes[4]!), 'another account’s code').toBeNull();
    expect(await recoveryCodes.remaining(user.id)).toBe(9);

    await recoveryCodes.generate(user.id);
    expect(await recoveryCodes.use(user.id, codes[5]!), 'replaced codes no longer work').toBeNull();
  });
});
