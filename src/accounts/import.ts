/*
 * `users import`: accounts carried over from another system, without a password reset.
 *
 *   rows (import-rows.ts) → plan: each row creates, updates, leaves unchanged or is refused
 *                         → apply: each row written whole or not at all, with its webhook event
 *                           and audit record (100 rows per transaction; see apply)
 *
 * An existing account is matched by external_id first, then by e-mail address. Running the same
 * import twice changes nothing the second time. What the file states wins for names, picture and
 * roles; what the person did in Sésame since wins for the rest: a verified address stays
 * verified, a password set (or re-hashed) here is never replaced by an imported hash. A Google
 * subject linked to another account, or an address or external_id taken by another account,
 * refuses the row. Existence lookups are batched, so a plan costs a few queries per 1 000 rows.
 */
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../db/database.ts';
import type { FederatedIdentity, User } from '../generated/prisma/client.ts';
import { recordEvent } from '../webhooks/events.ts';
import { userView, visiblyChanged } from './user-view.ts';
import { refuseRepeats } from './import-rows.ts';
import type { ImportRow, ParsedRow } from './import-rows.ts';

export type Outcome = 'created' | 'updated' | 'unchanged' | 'refused';

export interface RowResult {
  line: number;
  ref: string;
  outcome: Outcome;
  id?: string;
  /** The fields an update changes. */
  changes?: string[];
  reason?: string;
}

/** What to write: the account as it will be, and for an update only the fields that change. */
type Plan = { result: RowResult; user?: User; update?: Partial<User>; link?: string; announce?: boolean };

const GOOGLE = 'google';
const BATCH = 1000;
/** Rows written per transaction: a commit costs milliseconds (fsync), a row a fraction of one. */
const CHUNK = 100;

async function batched<T>(keys: string[], load: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < keys.length; i += BATCH) found.push(...(await load(keys.slice(i, i + BATCH))));
  return found;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function createUserImport({ prisma, defaultRoles, actor }: { prisma: Prisma; defaultRoles: readonly string[]; actor: string }) {
  async function lookups(rows: ImportRow[]) {
    const values = (pick: (row: ImportRow) => string | undefined) => [...new Set(rows.map(pick).filter((v): v is string => v !== undefined))];
    const [byExternal, byEmail, identities] = await Promise.all([
      batched(values((r) => r.externalId), (ids) => prisma.user.findMany({ where: { externalId: { in: ids } } })),
      batched(values((r) => r.emailKey), (keys) => prisma.user.findMany({ where: { emailKey: { in: keys } } })),
      batched(values((r) => r.googleSub), (subs) => prisma.federatedIdentity.findMany({ where: { provider: GOOGLE, subject: { in: subs } } })),
    ]);
    return {
      byExternal: new Map(byExternal.map((u) => [u.externalId!, u])),
      byEmail: new Map(byEmail.map((u) => [u.emailKey, u])),
      identities: new Map<string, FederatedIdentity>(identities.map((i) => [i.subject, i])),
    };
  }

  function planRow(row: ImportRow, known: Awaited<ReturnType<typeof lookups>>, now: Date): Plan {
    const base = { line: row.line, ref: row.ref };
    const refuse = (reason: string): Plan => ({ result: { ...base, outcome: 'refused', reason } });
    const existing = (row.externalId && known.byExternal.get(row.externalId)) || known.byEmail.get(row.emailKey);
    const holder = known.byEmail.get(row.emailKey);
    if (existing && holder && holder.id !== existing.id) return refuse(`the address ${row.email} belongs to another account (${holder.id})`);
    if (existing?.externalId && row.externalId && existing.externalId !== row.externalId) {
      return refuse(`the account with the address ${row.email} was imported with another external_id (${existing.externalId})`);
    }
    const identity = row.googleSub ? known.identities.get(row.googleSub) : undefined;
    if (identity && identity.userId !== existing?.id) return refuse(`google_sub ${row.googleSub} is linked to another account (${identity.userId})`);
    const link = row.googleSub && !identity ? row.googleSub : undefined;

    if (!existing) {
      const user: User = {
        id: randomUUID(), email: row.email, emailKey: row.emailKey, emailVerified: row.emailVerified,
        givenName: row.givenName, familyName: row.familyName, passwordHash: row.passwordHash ?? null, picture: row.picture,
        roles: row.roles ?? [...defaultRoles], externalId: row.externalId ?? null,
        passwordChangedAt: row.passwordHash ? now : null, disabledAt: null, createdAt: row.createdAt ?? now, updatedAt: now,
      };
      return { result: { ...base, outcome: 'created', id: user.id }, user, ...(link ? { link } : {}) };
    }

    const emailChanged = existing.emailKey !== row.emailKey;
    const wanted: Partial<User> = {
      email: row.email,
      emailKey: row.emailKey,
      // A verification is kept unless the address itself changes.
      emailVerified: emailChanged ? row.emailVerified : existing.emailVerified || row.emailVerified,
      givenName: row.givenName ?? existing.givenName,
      familyName: row.familyName ?? existing.familyName,
      picture: row.picture ?? existing.picture,
      roles: row.roles ?? existing.roles,
      externalId: row.externalId ?? existing.externalId,
      ...(row.passwordHash && !existing.passwordHash ? { passwordHash: row.passwordHash, passwordChangedAt: now } : {}),
    };
    const changes = Object.keys(wanted).filter((key) => key !== 'passwordChangedAt' && !same(wanted[key as keyof User], existing[key as keyof User]));
    if (!changes.length && !link) return { result: { ...base, outcome: 'unchanged', id: existing.id } };
    // Only what changes is written: a field an admin changes meanwhile is not put back.
    const update = Object.fromEntries(Object.entries(wanted).filter(([key]) => changes.includes(key) || (key === 'passwordChangedAt' && changes.includes('passwordHash'))));
    const user = { ...existing, ...update, updatedAt: now };
    return { result: { ...base, outcome: 'updated', id: existing.id, changes: link ? [...changes, 'google'] : changes }, user, update, announce: visiblyChanged(existing, user), ...(link ? { link } : {}) };
  }

  /** The statements that write these rows, stamped `at` (not when planned: the users feed trusts a change's time to be its commit's). */
  function statements(plans: Plan[], at: Date) {
    const rows = plans.map((plan) => {
      const user = { ...plan.user!, updatedAt: at };
      // A new account without an imported created_at is created now too.
      if (!plan.update && plan.user!.createdAt === plan.user!.updatedAt) user.createdAt = at;
      return { plan, user };
    });
    const creates = rows.filter((row) => !row.plan.update).map((row) => row.user);
    const links = rows.flatMap(({ plan, user }) => (plan.link ? [{ provider: GOOGLE, subject: plan.link, userId: user.id, email: user.email }] : []));
    return [
      ...(creates.length ? [prisma.user.createMany({ data: creates })] : []),
      ...rows.flatMap(({ plan, user }) => (plan.update ? [prisma.user.update({ where: { id: user.id }, data: { ...plan.update, updatedAt: at } })] : [])),
      ...(links.length ? [prisma.federatedIdentity.createMany({ data: links })] : []),
      // Announced when apps see a difference (a new password hash alone is not one).
      ...rows.filter(({ plan }) => !plan.update || plan.announce).map(({ plan, user }) => recordEvent(prisma, plan.update ? 'user.updated' : 'user.created', userView(user))),
      prisma.auditEvent.createMany({
        data: rows.map(({ plan, user }) => ({
          actor,
          action: plan.update ? 'user.import.update' : 'user.import.create',
          target: user.id,
          userId: user.id,
          details: { line: plan.result.line, external_id: user.externalId, changes: plan.result.changes ?? [] },
        })),
      }),
    ];
  }

  /**
   * Writes a chunk of rows in one transaction (one commit per chunk, not per row). If any row
   * conflicts with a change made since the plan, the chunk is rolled back and its rows are
   * written one by one, so that only the conflicting row is refused. Either way every row is
   * written whole, or not at all.
   */
  async function apply(plans: Plan[]): Promise<RowResult[]> {
    const writes = plans.filter((plan) => plan.user);
    if (!writes.length) return plans.map((plan) => plan.result);
    try {
      await prisma.$transaction(statements(writes, new Date()));
      return plans.map((plan) => plan.result);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'P2002' && code !== 'P2025') throw error;
      if (plans.length > 1) {
        const results: RowResult[] = [];
        for (const plan of plans) results.push(...(await apply([plan])));
        return results;
      }
      const { line, ref } = plans[0]!.result;
      return [{ line, ref, outcome: 'refused', reason: 'the account changed while importing (address, external_id or Google account taken meanwhile, or account removed): run the import again' }];
    }
  }

  return {
    /** Plans every row and, unless `dryRun`, applies them; results come back in line order. */
    async run(parsed: ParsedRow[], { dryRun = false } = {}): Promise<RowResult[]> {
      const checked = refuseRepeats(parsed);
      const refused = checked.flatMap((p): RowResult[] => ('refused' in p ? [{ line: p.refused.line, ref: p.refused.ref, outcome: 'refused', reason: p.refused.reason }] : []));
      const rows = checked.flatMap((p) => ('row' in p ? [p.row] : []));
      const known = await lookups(rows);
      const now = new Date();
      const plans = rows.map((row) => planRow(row, known, now));
      const results: RowResult[] = [...refused];
      for (let i = 0; i < plans.length; i += CHUNK) {
        const chunk = plans.slice(i, i + CHUNK);
        results.push(...(dryRun ? chunk.map((plan) => plan.result) : await apply(chunk)));
      }
      return results.sort((a, b) => a.line - b.line);
    },
  };
}

export function summarise(results: RowResult[]) {
  const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length;
  return { total: results.length, created: count('created'), updated: count('updated'), unchanged: count('unchanged'), refused: count('refused') };
}
