// Server-wide secrets generated on first start and shared by every replica through the database.
import { hkdfSync, randomBytes } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import type { Sealer } from './sealing.ts';

const COOKIE_KEYS = 'cookie-keys';

export interface ServerSecrets {
  /** Keys that sign cookies, newest first (Koa/keygrip signs with the first, accepts all). */
  cookieKeys: string[];
  /** A key for one purpose (CSRF tokens, …), derived from the newest cookie key. */
  derive(purpose: string): Buffer;
}

/** Reads the secrets, generating them on first start (sealed when SECRETS_ENCRYPTION_KEY is set). */
export async function loadServerSecrets(prisma: Prisma, sealer: Sealer): Promise<ServerSecrets> {
  const fresh = sealer.seal(JSON.stringify([randomBytes(32).toString('base64url')]), COOKIE_KEYS);
  // Replicas starting together: the first insert wins, everyone reads the winner.
  await prisma.serverSecret.createMany({ data: [{ name: COOKIE_KEYS, value: fresh }], skipDuplicates: true });
  const row = await prisma.serverSecret.findUniqueOrThrow({ where: { name: COOKIE_KEYS } });
  const plaintext = sealer.open(row.value, COOKIE_KEYS);
  if (sealer.isStale(row.value)) {
    // Stored before SECRETS_ENCRYPTION_KEY was set, or under the previous one: seal it again now
    // (only if no replica did meanwhile).
    await prisma.serverSecret.updateMany({ where: { name: COOKIE_KEYS, value: row.value }, data: { value: sealer.seal(plaintext, COOKIE_KEYS) } });
  }
  const cookieKeys = JSON.parse(plaintext) as string[];
  const master = Buffer.from(cookieKeys[0]!, 'base64url');
  return {
    cookieKeys,
    derive: (purpose) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `sesame ${purpose}`, 32)),
  };
}
