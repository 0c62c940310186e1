// Signing keys, kept in the database so every replica signs and publishes the same set.
//
// A key's life, derived from its timestamps and the ID token lifetime (nothing else is stored):
//   pending  – published, not yet signing (activatesAt in the future)
//   active   – the newest key of its algorithm whose activatesAt has passed: it signs
//   retiring – replaced, still published until every token it signed has expired
//   retired  – no longer published
import { calculateJwkThumbprint } from 'jose';
import type { JWK } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import type { Sealer } from './sealing.ts';

export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
export type KeyStatus = 'pending' | 'active' | 'retiring' | 'retired';

/** How long past an ID token's expiry its key stays published, for clocks that run late. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const BOOTSTRAP_LOCK = 0x5e5a_4e01;

export interface StoredKey {
  kid: string;
  alg: string;
  privateJwk: unknown;
  createdAt: Date;
  activatesAt: Date;
}

export interface KeyView {
  kid: string;
  alg: string;
  status: KeyStatus;
  createdAt: Date;
  activatesAt: Date;
  /** When a replaced key stops being published. */
  publishedUntil?: Date;
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

/** Statuses of every key at `now`, newest first within each algorithm. */
export function describeKeys(keys: StoredKey[], now: Date, idTokenTtlSeconds: number): KeyView[] {
  const views: KeyView[] = [];
  for (const alg of new Set(keys.map((key) => key.alg))) {
    const sameAlg = keys
      .filter((key) => key.alg === alg)
      .sort((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime() || b.createdAt.getTime() - a.createdAt.getTime());
    let successor: StoredKey | undefined;
    let activeSeen = false;
    for (const key of sameAlg) {
      const view: KeyView = { kid: key.kid, alg, status: 'pending', createdAt: key.createdAt, activatesAt: key.activatesAt };
      if (key.activatesAt > now) {
        view.status = 'pending';
      } else if (!activeSeen) {
        view.status = 'active';
        activeSeen = true;
      } else {
        // `successor` is the next newer key that has activated: this key signed until then.
        const until = new Date(successor!.activatesAt.getTime() + idTokenTtlSeconds * 1000 + CLOCK_SKEW_MS);
        view.publishedUntil = until;
        view.status = until > now ? 'retiring' : 'retired';
      }
      if (key.activatesAt <= now) successor = key;
      views.push(view);
    }
  }
  return views;
}

export interface ProviderKeySet {
  /** Private JWKs for oidc-provider: signing keys first; published-only keys may verify but never sign. */
  jwks: { keys: JWK[] };
  /** Identifies the set; it changes when a key starts or stops signing or being published. */
  fingerprint: string;
}

export function providerKeySet(keys: StoredKey[], now: Date, idTokenTtlSeconds: number): ProviderKeySet {
  const byKid = new Map(keys.map((key) => [key.kid, key]));
  const views = describeKeys(keys, now, idTokenTtlSeconds);
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
      const created: string[] = [];
      await prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`;
        const existing = new Set((await tx.signingKey.findMany({ select: { alg: true } })).map((key) => key.alg));
        for (const alg of SIGNING_ALGORITHMS) {
          if (existing.has(alg)) continue;
          const { kid, jwk } = await generateSigningKey(alg);
          await tx.signingKey.create({ data: { kid, alg, privateJwk: stored(kid, jwk), activatesAt: new Date() } });
          created.push(kid);
        }
      });
      return created;
    },

    /** New keys, published now and signing from `activatesAt`. */
    async rotate(algs: readonly SigningAlgorithm[], activatesAt: Date): Promise<{ kid: string; alg: string }[]> {
      const created: { kid: string; alg: string }[] = [];
      for (const alg of algs) {
        const { kid, jwk } = await generateSigningKey(alg);
        await prisma.signingKey.create({ data: { kid, alg, privateJwk: stored(kid, jwk), activatesAt } });
        created.push({ kid, alg });
      }
      return created;
    },

    /** Deletes keys that are no longer published. */
    async pruneRetired(now: Date, idTokenTtlSeconds: number): Promise<number> {
      const retired = describeKeys(await this.list(), now, idTokenTtlSeconds).filter((view) => view.status === 'retired');
      if (!retired.length) return 0;
      const { count } = await prisma.signingKey.deleteMany({ where: { kid: { in: retired.map((view) => view.kid) } } });
      return count;
    },
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;
