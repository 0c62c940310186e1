// What people allowed relying apps to see, kept beyond the browser session in which they allowed
// it: the next sign-in to the same app, on any browser, asks only for what was never allowed.
// oidc-provider's own grants end with the session (or the refresh token); this is the memory
// behind them. Withdrawing a consent also ends every grant and token the app holds for that person.
import type { Prisma } from '../db/database.ts';
import { forget, memoized, remember, settleDeferred } from '../db/request-memo.ts';
import { revokedApps } from '../oidc/provider-rows.ts';
import { userActor } from '../audit/trail.ts';
import type { AuditTrail } from '../audit/trail.ts';

/** What a person allowed one app. */
export interface AllowedApp {
  clientId: string;
  scopes: string[];
  claims: string[];
}

export interface Consent {
  clientId: string;
  scopes: string[];
  claims: string[];
  grantedAt: Date;
  updatedAt: Date;
}

/**
 * How an API's scope is remembered beside OpenID scopes: "<resource indicator>|<scope>" (API
 * scopes never contain "|", src/apis/registry.ts).
 */
export function resourceScopeKey(indicator: string, scope: string): string {
  return `${indicator}|${scope}`;
}

/**
 * SQL for every app the person whose id is `id` (an SQL expression) allowed, as one JSON array of
 * AllowedApp: read with the account (oidc/adapter-sql.ts) and remembered for find().
 */
export const consentsOf = (id: string) =>
  `(SELECT coalesce(jsonb_agg(jsonb_build_object('clientId', client_id, 'scopes', scopes, 'claims', claims)), '[]'::jsonb)
      FROM consents WHERE user_id = ${id})`;

/** Remembers, for the current request, what a read that came with the account found (consentsOf). */
export function rememberConsents(userId: string, allowed: AllowedApp[]): void {
  remember(`consents:${userId}`, allowed);
}

export function createConsentStore(prisma: Prisma, audit: AuditTrail) {
  return {
    /**
     * What `userId` allowed `clientId`, or undefined when nothing is remembered. Read once per
     * request for every app (`consents:<userId>` in db/request-memo.ts): a read that fetched them
     * with the account may remember them there.
     */
    async find(userId: string, clientId: string): Promise<AllowedApp | undefined> {
      const allowed = await memoized(`consents:${userId}`, (): Promise<AllowedApp[]> =>
        prisma.consent.findMany({ where: { userId }, select: { clientId: true, scopes: true, claims: true } }),
      );
      return allowed.find((consent) => consent.clientId === clientId);
    },

    /** Adds to what `userId` allowed `clientId` (what was allowed before stays allowed). */
    async remember(userId: string, clientId: string, scopes: Iterable<string>, claims: Iterable<string> = []): Promise<void> {
      const allowed = { scopes: [...new Set(scopes)].sort(), claims: [...new Set(claims)].sort() };
      forget(`consents:${userId}`);
      await prisma.$executeRaw`
        INSERT INTO consents (user_id, client_id, scopes, claims, updated_at)
        VALUES (${userId}, ${clientId}, ${allowed.scopes}::text[], ${allowed.claims}::text[], now())
        ON CONFLICT (user_id, client_id) DO UPDATE SET
          scopes = ARRAY(SELECT DISTINCT s FROM unnest(consents.scopes || excluded.scopes) AS s ORDER BY s),
          claims = ARRAY(SELECT DISTINCT c FROM unnest(consents.claims || excluded.claims) AS c ORDER BY c),
          updated_at = now()`;
      audit.record({ action: 'consent.given', target: clientId, userId, clientId, actor: userActor(userId), details: allowed });
    },

    /** Every app `userId` allowed, oldest first. */
    async list(userId: string): Promise<Consent[]> {
      return prisma.consent.findMany({ where: { userId }, orderBy: { grantedAt: 'asc' } });
    },

    /**
     * Forgets what `userId` allowed `clientId` (every app when `clientId` is absent) and ends the
     * grants, tokens and codes those apps hold for them. Returns the apps forgotten, each one
     * recorded in the audit trail (by the trail's actor: the admin, from the CLI).
     */
    async forget(userId: string, clientId?: string): Promise<string[]> {
      const forgotten = await prisma.consent.findMany({ where: { userId, ...(clientId ? { clientId } : {}) }, select: { clientId: true } });
      const clientIds = forgotten.map((row) => row.clientId);
      if (clientIds.length === 0) return [];
      forget(`consents:${userId}`);
      await settleDeferred();
      forget('oidc:*');
      await prisma.$transaction([...revokedApps(prisma, userId, clientIds), prisma.consent.deleteMany({ where: { userId, clientId: { in: clientIds } } })]);
      for (const id of clientIds) audit.record({ action: 'consent.withdrawn', target: id, userId, clientId: id });
      return clientIds;
    },
  };
}

export type ConsentStore = ReturnType<typeof createConsentStore>;
