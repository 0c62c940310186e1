// oidc-provider's storage: one table keyed by (model, id), every lookup scoped by model.
// Expired rows are treated as absent; deleting a row already gone is not an error; `consume`
// is a single conditional UPDATE, so of many concurrent redemptions exactly one wins.
// Clients are not stored here: the "Client" model reads the client registry. Repeated reads
// within one request are answered once (db/request-memo.ts). An id PostgreSQL cannot store (a
// NUL) names nothing: found nowhere, never a database error (the edge refuses them first,
// http/request-parameters.ts; a client_id from a Basic header does not pass there).
import { errors } from 'oidc-provider';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Prisma } from '../db/database.ts';
import { forget, memoized } from '../db/request-memo.ts';
import { sessionsEndedBy } from './session-events.ts';

export interface ClientSource {
  providerMetadata(clientId: string): Promise<AdapterPayload | undefined>;
}

export type AdapterFactory = (model: string) => Adapter;

export function createAdapterFactory(prisma: Prisma, clients: ClientSource): AdapterFactory {
  const rows = prisma.oidcPayload;

  class ClientAdapter implements Adapter {
    async find(id: string) {
      return storable(id) ? clients.providerMetadata(id) : undefined;
    }
    async upsert() {
      throw new Error('clients are managed with the admin CLI');
    }
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async destroy() {}
    async revokeByGrantId() {}
    async consume() {}
  }

  class PrismaAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    private key(id: string) {
      return `oidc:${this.model}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      forget(this.key(id));
      const columns = {
        payload: payload as object,
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        accountId: payload.accountId ?? null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await rows.upsert({
        where: { model_id: { model: this.model, id } },
        create: { model: this.model, id, ...columns },
        update: columns,
      });
    }

    async find(id: string) {
      if (!storable(id)) return undefined;
      return present(await memoized(this.key(id), () => rows.findUnique({ where: { model_id: { model: this.model, id } } })));
    }

    async findByUid(uid: string) {
      if (!storable(uid)) return undefined;
      return present(await rows.findFirst({ where: { model: this.model, uid } }));
    }

    async findByUserCode(userCode: string) {
      if (!storable(userCode)) return undefined;
      return present(await rows.findFirst({ where: { model: this.model, userCode } }));
    }

    async consume(id: string) {
      if (!storable(id)) throw new errors.InvalidGrant(`${this.model} not found`);
      forget(this.key(id));
      const { count } = await rows.updateMany({
        where: { model: this.model, id, consumedAt: null },
        data: { consumedAt: new Date() },
      });
      // Another request consumed it between oidc-provider's check and this update.
      if (count === 0) throw new errors.InvalidGrant(`${this.model} already consumed`);
    }

    async destroy(id: string) {
      if (!storable(id)) return;
      forget(this.key(id));
      await rows.deleteMany({ where: { model: this.model, id } });
    }

    async revokeByGrantId(grantId: string) {
      if (!storable(grantId)) return;
      forget(`oidc:${this.model}:*`);
      await rows.deleteMany({ where: { model: this.model, grantId } });
    }
  }

  const clientAdapter = new ClientAdapter();
  return (model) => (model === 'Client' ? clientAdapter : new PrismaAdapter(model));
}

const storable = (id: string) => typeof id === 'string' && !id.includes('\0');

function present(row: { payload: unknown; expiresAt: Date | null; consumedAt: Date | null } | null): AdapterPayload | undefined {
  if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
  const payload = row.payload as AdapterPayload;
  return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
}

/** oidc-provider never deletes expired rows itself. Returns how many were removed. */
export async function deleteExpiredPayloads(prisma: Prisma, now = new Date()): Promise<number> {
  const [, { count }] = await prisma.$transaction([
    sessionsEndedBy(prisma, 'expired', { expiredBefore: now }),
    prisma.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } }),
  ]);
  return count;
}
