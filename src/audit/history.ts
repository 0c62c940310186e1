// Reading the audit trail back (`admin audit list`), and forgetting it after AUDIT_RETENTION.
import type { Prisma } from '../db/database.ts';
import type { Prisma as Sql } from '../generated/prisma/client.ts';

export interface AuditFilter {
  /** Events about an account: recorded with one of these ids, or against one of these targets (its address, its id). */
  user?: { ids: string[]; targets: string[] };
  clientId?: string;
  /** An action ("sign-in.failed") or a family of them ("sign-in"). */
  type?: string;
  since?: Date;
  limit: number;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  user_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: unknown;
}

/** The events `filter` selects, newest first. */
export async function listAuditEvents(prisma: Prisma, filter: AuditFilter): Promise<AuditRow[]> {
  const where: Sql.AuditEventWhereInput[] = [];
  if (filter.user) where.push({ OR: [{ userId: { in: filter.user.ids } }, { target: { in: filter.user.targets } }] });
  if (filter.clientId) where.push({ clientId: filter.clientId });
  if (filter.type) where.push({ OR: [{ action: filter.type }, { action: { startsWith: `${filter.type}.` } }] });
  if (filter.since) where.push({ at: { gte: filter.since } });
  const rows = await prisma.auditEvent.findMany({ where: { AND: where }, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: filter.limit });
  return rows.map((row) => ({
    id: String(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    user_id: row.userId,
    client_id: row.clientId,
    ip: row.ip,
    user_agent: row.userAgent,
    request_id: row.requestId,
    details: row.details,
  }));
}

/** Deletes events older than `retentionSeconds` (0: keeps everything). Returns how many. */
export async function deleteOldAuditEvents(prisma: Prisma, retentionSeconds: number): Promise<number> {
  if (!retentionSeconds) return 0;
  const { count } = await prisma.auditEvent.deleteMany({ where: { at: { lt: new Date(Date.now() - retentionSeconds * 1000) } } });
  return count;
}
