// Signing keys, kept in the database so every replica signs and publishes the same set; their
// life and schedule are in key-life.ts. Every replica looks at them (host.ts): when a rotation
// falls due, one of them (under an advisory lock) adds the successor, published at once and
// signing `lead` seconds later: by then every replica has loaded it (KEY_REFRESH_INTERVAL) and
// every copy of the JWKS cached before it was published has expired (JWKS_MAX_AGE).
import { calculateJwkThumbprint } from 'jose';
import type { JWK } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import { describeKeys, dueForRotation } from './key-life.ts';
import type { KeyTimes, KeyView, Retention, RotationSchedule } from './key-life.ts';
import type { Sealer } from './sealing.ts';

export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** One lock for every change to the set of keys, so that replicas never add keys twice. */
const KEYS_LOCK = 0x5e5a_4e01;
/** The columns a key's life depends on. */
const times = { kid: true, alg: true, createdAt: true, activatesAt: true, revokedAt: true } as const;

export interface StoredKey extends KeyTimes {
  privateJwk: unknown;
}

export async function generateSigningKey(alg: SigningAlgorithm): Promise<{ kid: string; jwk: JWK }> {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { kid, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

export interface ProviderKeySet {
  /** Private JWKs for oidc-provider: signing keys first; published-only keys may verify but never sign. */
  jwks: { keys: JWK[] };
  /** Identifies the set; it changes when a key starts or stops signing or being published. */
  fingerprint: string;
}

export function providerKeySet(keys: StoredKey[], now: Date, retention: Retention): ProviderKeySet {
  const byKid = new Map(keys.map((key) => [key.kid, key]));
  const views = describeKeys(keys, now, retention);
  const active = views.filter((view) => view.status === 'active');
  const publishedOnly = views.filter((view) => view.status === 'pending' || view.status === 'retiring');
  const jwk = (view: KeyView, verifyOnly: boolean): JWK => {
    const stored = byKid.get(view.kid)!.privateJwk as JWK;
    return verifyOnly ? { ...stored, key_ops: ['verify'] } : stored;
  };
  // RS256 first: it is the default ID token algorithm for clients that name none.
  active.sort((a, b) => SIGNING_ALGORITHMS.indexOf(a.alg as SigningAlgorithm) - SIGNING_ALGORITHMS.indexOf(b.alg as SigningAlgorithm));
  return {
    jwks: { keys: [...active.map((view) => jwk(view, false)), ...publishedOnly.map((view) => jwk(view, true))] },
    fingerprint: [...active.map((view) => `+${view.kid}`), ...publishedOnly.map((view) => `~${view.kid}`)].join(','),
  };
}

/**
 * The keys in the database. A private key is stored as its JWK, or sealed (a string) when
 * SECRETS_ENCRYPTION_KEY is set; `list()` always returns the JWK.
 */
export function createKeyStore(prisma: Prisma, sealer: Sealer) {
  const context = (kid: string) => `signing-key:${kid}`;
  const stored = (kid: string, jwk: JWK) => (sealer.sealing ? sealer.seal(JSON.stringify(jwk), context(kid)) : (jwk as object));
  const opened = (kid: string, value: unknown): unknown => (typeof value === 'string' ? JSON.parse(sealer.open(value, context(kid))) : value);
  type Generated = Awaited<ReturnType<typeof generateSigningKey>>;
  const insert = async (db: Pick<Prisma, 'signingKey'>, alg: string, { kid, jwk }: Generated, activatesAt: Date) => {
    await db.signingKey.create({ data: { kid, alg, privateJwk: stored(kid, jwk), activatesAt } });
    return { kid, alg, activatesAt };
  };

  return {
    async list(): Promise<StoredKey[]> {
      const rows = await prisma.signingKey.findMany({ orderBy: [{ alg: 'asc' }, { activatesAt: 'desc' }] });
      return rows.map((row) => ({ ...row, privateJwk: opened(row.kid, row.privateJwk) }));
    },

    /**
     * With SECRETS_ENCRYPTION_KEY set, seals the keys stored in the clear before it was, or
     * sealed under SECRETS_ENCRYPTION_KEY_PREVIOUS. Returns how many.
     */
    async sealStored(): Promise<number> {
      if (!sealer.sealing) return 0;
      let sealed = 0;
      for (const row of await prisma.signingKey.findMany()) {
        const value = row.privateJwk;
        if (typeof value === 'string' && !sealer.isStale(value)) continue;
        const jwk = opened(row.kid, value) as JWK;
        // Conditional on the value read, so that replicas starting together do not both write.
        const { count } = await prisma.signingKey.updateMany({ where: { kid: row.kid, privateJwk: { equals: value as object } }, data: { privateJwk: stored(row.kid, jwk) } });
        sealed += count;
      }
      return sealed;
    },

    /** On first start, one immediately active key per algorithm; safe when replicas race. */
    async ensure(): Promise<string[]> {
      return prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`;
        const existing = new Set((await tx.signingKey.findMany({ where: { revokedAt: null }, select: { alg: true } })).map((key) => key.alg));
        const created: string[] = [];
        for (const alg of SIGNING_ALGORITHMS.filter((alg) => !existing.has(alg))) created.push((await insert(tx, alg, await generateSigningKey(alg), new Date())).kid);
        return created;
      });
    },

    /** New keys, published now and signing from `activatesAt`. */
    async rotate(algs: readonly SigningAlgorithm[], activatesAt: Date): Promise<{ kid: string; alg: string }[]> {
      const created: { kid: string; alg: string }[] = [];
      for (const alg of algs) created.push(await insert(prisma, alg, await generateSigningKey(alg), activatesAt));
      return created;
    },

    /**
     * The schedule's successors: for every algorithm due (dueForRotation), one new key signing
     * `schedule.lead` seconds from now. Checked again under the lock, so that of replicas
     * looking at the same moment exactly one adds it.
     */
    async rotateDue(now: Date, retention: Retention, schedule: RotationSchedule): Promise<{ kid: string; alg: string; activatesAt: Date }[]> {
      // Generated before taking the lock (an RSA key takes a while); unused if another replica was first.
      const fresh = new Map<string, Generated>();
      for (const alg of dueForRotation(await prisma.signingKey.findMany({ select: times }), now, retention, schedule.interval)) {
        fresh.set(alg, await generateSigningKey(alg as SigningAlgorithm));
      }
      if (!fresh.size) return [];
      return prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`;
        const due = dueForRotation(await tx.signingKey.findMany({ select: times }), now, retention, schedule.interval);
        const activatesAt = new Date(Date.now() + schedule.lead * 1000);
        const created: { kid: string; alg: string; activatesAt: Date }[] = [];
        for (const alg of due.filter((alg) => fresh.has(alg))) created.push(await insert(tx, alg, fresh.get(alg)!, activatesAt));
        return created;
      });
    },

    /**
     * Withdraws a key at once. If it was signing, a new key of its algorithm signs from now: no
     * delay for publication, since the withdrawn one must not sign a moment longer. Returns the
     * key as it was (status `revoked` if it already was: then nothing changes), or undefined.
     */
    async revoke(kid: string, now: Date, retention: Retention): Promise<{ key: KeyView; replacement?: { kid: string; alg: string } } | undefined> {
      const row = await prisma.signingKey.findUnique({ where: { kid }, select: { alg: true } });
      if (!row) return undefined;
      // Generated before taking the lock, in case the key is the one signing.
      const successor = await generateSigningKey(row.alg as SigningAlgorithm);
      return prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`;
        const key = describeKeys(await tx.signingKey.findMany({ select: times }), now, retention).find((view) => view.kid === kid);
        if (!key || key.status === 'revoked') return key && { key };
        await tx.signingKey.update({ where: { kid }, data: { revokedAt: now } });
        if (key.status !== 'active') return { key };
        return { key, replacement: await insert(tx, key.alg, successor, new Date()) };
      });
    },

    /** Deletes keys no longer published, and revoked keys once they would have retired anyway. */
    async pruneRetired(now: Date, retention: Retention): Promise<number> {
      const keepMs = (retention.tokenTtl + retention.grace) * 1000;
      const gone = describeKeys(await this.list(), now, retention).filter(
        (view) => view.status === 'retired' || (view.status === 'revoked' && view.revokedAt!.getTime() + keepMs <= now.getTime()),
      );
      if (!gone.length) return 0;
      const { count } = await prisma.signingKey.deleteMany({ where: { kid: { in: gone.map((view) => view.kid) } } });
      return count;
    },
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;
