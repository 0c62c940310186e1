// A record of what admins changed, kept in the database (audit_events).
import { hostname, userInfo } from 'node:os';
import type { Prisma } from './db/database.ts';

export function currentActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {}
  return `${user}@${hostname()}`;
}

export async function recordAudit(prisma: Prisma, event: { actor: string; action: string; target: string; details?: object }) {
  await prisma.auditEvent.create({ data: event });
}
