// oidc-provider's storage: one table keyed by (model, id), every lookup scoped by model.
// Expired rows are treated as absent; deleting a row already gone is not an error; `consume`
// is a single conditional UPDATE, so of many concurrent redemptions exactly one wins.
// Clients are not stored here: the "Client" model reads the client registry. An id PostgreSQL
// cannot store (a NUL) names nothing: found nowhere, never a database error (the edge refuses them
// first, http/request-parameters.ts; a client_id from a Basic header does not pass there).
//
// Every protocol request runs these statements, so they are plain SQL, prepared (db/sql.ts), one
// round trip each. Within one request (db/request-memo.ts) a row is read once; a token is read
// with its grant, session and account, which oidc-provider asks for next; saving a row again
// exactly as this request last saved it is skipped (oidc-provider saves an interaction or a
// session several times). Where the request allows it (db/request-memo.ts writeBeforeAnswer: the
// hosted pages and the token endpoint), saves and deletes are held and made together in one
// statement just before the answer: the request reads what it holds (a read the memo cannot
// answer first makes what is held), and nothing it answers points at a row not yet written.
import { errors } from 'oidc-provider';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Prisma } from '../db/database.ts';
import type { SqlClient } from '../db/sql.ts';
import { MAX_BATCH, findStatement, heldWritesStatement, statements, upsertStatement } from './adapter-sql.ts';
import { deferUntilAnswer, forget, isHeld, lastRead, memoized, remember, settleDeferred, unchanged, written } from '../db/request-memo.ts';
import { rememberConsents } from '../accounts/consents.ts';
import type { AllowedApp } from '../accounts/consents.ts';
import { endedSessions } from './provider-rows.ts';
import { accountFromJson } from './account.ts';

export interface ClientSource {
  providerMetadata(clientId: string): Promise<AdapterPayload | undefined>;
}

export type AdapterFactory = (model: string) => Adapter;

/** The payload stays JSON text until it is handed out: a fresh object for each caller, no copying. */
interface Row {
  payload: string;
  expires_at: Date | null;
  consumed_at: Date | null;
}

interface FoundRow extends Row {
  model: string;
  id: string;
  grant_id: string | null;
  grant_payload: string | null;
  grant_expires_at: Date | null;
  grant_consumed_at: Date | null;
  session_uid: string | null;
  session_payload: string | null;
  session_expires_at: Date | null;
  session_consumed_at: Date | null;
  account_id: string | null;
  account: Parameters<typeof accountFromJson>[0];
  consents: AllowedApp[] | null;
}

/** A write held until the answer: a row saved (the upsert's values) or deleted (model and id). */
type HeldWrite = { upsert: unknown[] } | { destroy: [string, string] };

export function createAdapterFactory(sql: SqlClient, clients: ClientSource): AdapterFactory {
  const findRow = batchedFinds(sql);
  const writeHeld = async (held: HeldWrite[]) => {
    const deletes = held.flatMap((write) => ('destroy' in write ? [write.destroy] : []));
    const upserts = held.flatMap((write) => ('upsert' in write ? [write.upsert] : []));
    while (deletes.length || upserts.length) {
      const removing = deletes.splice(0, MAX_BATCH);
      const saving = upserts.splice(0, MAX_BATCH);
      await sql.query(heldWritesStatement(removing.length, saving.length), [...removing.flat(), ...saving.flat()]);
    }
  };
  const hold = (key: string, write: HeldWrite) => deferUntilAnswer('oidc', key, write, writeHeld);

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

  class SqlAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    private key(id: string) {
      return `oidc:${this.model}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const key = this.key(id);
      const json = JSON.stringify(payload);
      // To the second, as oidc-provider counts lifetimes: the same save again within a request.
      const expiresAt = expiresIn ? new Date((Math.floor(Date.now() / 1000) + expiresIn) * 1000) : null;
      const version = `${expiresAt?.getTime() ?? ''}|${json}`;
      if (unchanged(key, version)) return;
      // Consumed by this request: written at once, the answer tells whether it stays spent.
      const consumed = unchanged(key, 'consumed');
      // The row as this request knows it (a saved row keeps its consumed_at).
      const before = (await lastRead(key)) as Row | undefined;
      // Deleted by this request, not yet written: deleted first.
      if (consumed || isHeld('oidc', key, (write: HeldWrite) => 'destroy' in write)) await settleDeferred();
      forget(key);
      forget(`oidc:${this.model}:uid:*`);
      const values = [this.model, id, json, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, payload.accountId ?? null, expiresAt];
      let consumedAt = before?.consumed_at ?? null;
      if (consumed || !hold(key, { upsert: values })) {
        await settleDeferred();
        consumedAt = (await sql.query<{ consumed_at: Date | null }>(upsertStatement(1), values)).rows[0]?.consumed_at ?? null;
      }
      written(key, version);
      const row: Row = { payload: json, expires_at: expiresAt, consumed_at: consumedAt };
      remember(key, row);
      if (payload.uid) remember(`oidc:${this.model}:uid:${payload.uid}`, row);
    }

    async find(id: string) {
      if (!storable(id)) return undefined;
      return present(await memoized(this.key(id), () => this.findWithRelated(id), asIs));
    }

    /** The row; its grant, session and account remembered for the request (oidc-provider asks for them next). */
    private async findWithRelated(id: string): Promise<Row | undefined> {
      await settleDeferred();
      const row = await findRow(this.model, id);
      if (!row) return undefined;
      if (row.grant_id) remember(`oidc:Grant:${row.grant_id}`, related(row.grant_payload, row.grant_expires_at, row.grant_consumed_at));
      if (row.account_id) remember(`user:${row.account_id}`, accountFromJson(row.account));
      if (row.session_uid) remember(`oidc:Session:uid:${row.session_uid}`, related(row.session_payload, row.session_expires_at, row.session_consumed_at));
      if (row.account_id && row.consents) rememberConsents(row.account_id, row.consents);
      return { payload: row.payload, expires_at: row.expires_at, consumed_at: row.consumed_at };
    }

    async findByUid(uid: string) {
      if (!storable(uid)) return undefined;
      return present(await memoized(`oidc:${this.model}:uid:${uid}`, () => this.findByUidWithAccount(uid), asIs));
    }

    /** The row; its account and what that person allowed apps remembered (the hosted pages ask next). */
    private async findByUidWithAccount(uid: string): Promise<Row | undefined> {
      await settleDeferred();
      const row = (await sql.query<Row & Pick<FoundRow, 'account_id' | 'account' | 'consents'>>(statements.findByUid, [this.model, uid])).rows[0];
      if (!row) return undefined;
      if (row.account_id) remember(`user:${row.account_id}`, accountFromJson(row.account));
      if (row.account_id && row.consents) rememberConsents(row.account_id, row.consents);
      return { payload: row.payload, expires_at: row.expires_at, consumed_at: row.consumed_at };
    }

    async findByUserCode(userCode: string) {
      if (!storable(userCode)) return undefined;
      await settleDeferred();
      return present((await sql.query<Row>(statements.findByUserCode, [this.model, userCode])).rows[0]);
    }

    async consume(id: string) {
      if (!storable(id)) throw new errors.InvalidGrant(`${this.model} not found`);
      await settleDeferred();
      forget(this.key(id));
      forget(`oidc:${this.model}:uid:*`);
      // Known to this request from now on: saved again, it is written at once and stays spent.
      written(this.key(id), 'consumed');
      const { rowCount } = await sql.query(statements.consume, [this.model, id]);
      // Another request consumed it between oidc-provider's check and this update.
      if (rowCount === 0) throw new errors.InvalidGrant(`${this.model} already consumed`);
    }

    async destroy(id: string) {
      if (!storable(id)) return;
      const key = this.key(id);
      forget(key);
      forget(`oidc:${this.model}:uid:*`);
      // Replaces a save of the same row held so far: the row goes, whether it was there before or not.
      if (hold(key, { destroy: [this.model, id] })) {
        remember(key, undefined);
        return;
      }
      await settleDeferred();
      await sql.query(statements.destroy, [this.model, id]);
    }

    async revokeByGrantId(grantId: string) {
      if (!storable(grantId)) return;
      await settleDeferred();
      forget(`oidc:${this.model}:*`);
      await sql.query(statements.revokeByGrantId, [this.model, grantId]);
    }
  }

  const clientAdapter = new ClientAdapter();
  const adapters = new Map<string, Adapter>();
  return (model) => {
    if (model === 'Client') return clientAdapter;
    let adapter = adapters.get(model);
    if (!adapter) adapters.set(model, (adapter = new SqlAdapter(model)));
    return adapter;
  };
}

/**
 * Finds by (model, id), the calls of one tick in one statement: the caller remembers what came
 * with its row, in its own request's scope.
 */
function batchedFinds(sql: SqlClient): (model: string, id: string) => Promise<FoundRow | undefined> {
  let pending: { model: string; id: string; resolve(row: FoundRow | undefined): void; reject(error: unknown): void }[] = [];
  const flush = () => {
    // At most MAX_BATCH rows a statement: a bounded number of prepared statements.
    for (let start = 0; start < pending.length; start += MAX_BATCH) void find(pending.slice(start, start + MAX_BATCH));
    pending = [];
  };
  const find = async (batch: typeof pending) => {
    try {
      const { rows } = await sql.query<FoundRow>(findStatement(batch.length), batch.flatMap((ask) => [ask.model, ask.id]));
      for (const ask of batch) ask.resolve(rows.find((row) => row.model === ask.model && row.id === ask.id));
    } catch (error) {
      for (const ask of batch) ask.reject(error);
    }
  };
  return (model, id) =>
    new Promise((resolve, reject) => {
      if (!pending.length) queueMicrotask(flush);
      pending.push({ model, id, resolve, reject });
    });
}

/** A row that came with another one: absent if it was not there. */
const related = (payload: string | null, expiresAt: Date | null, consumedAt: Date | null): Row | undefined =>
  payload ? { payload, expires_at: expiresAt, consumed_at: consumedAt } : undefined;

const asIs = <T>(value: T) => value;

const storable = (id: string) => typeof id === 'string' && !id.includes('\0');

function present(row: Row | undefined): AdapterPayload | undefined {
  if (!row || (row.expires_at && row.expires_at.getTime() <= Date.now())) return undefined;
  const payload = JSON.parse(row.payload) as AdapterPayload;
  return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
}

/**
 * oidc-provider never deletes expired rows itself. Expired sessions end as any other (their
 * apps told by back-channel logout, session.ended, their devices forgotten: provider-rows.ts) in
 * the transaction that deletes them. Returns how many rows were removed.
 */
export async function deleteExpiredPayloads(prisma: Prisma, now = new Date()): Promise<number> {
  const sessions = endedSessions(prisma, 'expired', { expiredBefore: now });
  const counts = await prisma.$transaction([...sessions, prisma.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } })]);
  return (counts[sessions.length - 1] as number) + (counts[sessions.length] as { count: number }).count;
}
