// The SQL of oidc-provider's storage (adapter.ts), prepared by name (db/sql.ts). Statements that
// take several rows come in one version per number of rows, with plain parameters: PostgreSQL
// keeps a generic plan for each (with array parameters it plans every call again).
import type { SqlStatement } from '../db/sql.ts';
import { accountOf } from './account.ts';
import { consentsOf } from '../accounts/consents.ts';

/** At most this many rows a statement: a bounded number of prepared statements. */
export const MAX_BATCH = 8;

const COLUMNS = 'payload::text, expires_at, consumed_at';
const findStatements = new Map<number, SqlStatement>();
/**
 * The person a row is about: a token's or session's account, an interaction's signed-in person
 * (its session's) or the one who just signed in (its result).
 */
const ACCOUNT_ID = `coalesce(t.account_id, t.payload->'session'->>'accountId', t.payload->'result'->'login'->>'accountId')`;

/**
 * Rows by (model, id), each with its grant, its session (a token's, or an interaction's), its
 * account (as JSON, account.ts) and, for an interaction, what that person allowed apps
 * (accounts/consents.ts): what oidc-provider and the hosted pages ask for next.
 */
export function findStatement(count: number): SqlStatement {
  let statement = findStatements.get(count);
  if (!statement) {
    const keys = Array.from({ length: count }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    statement = {
      name: `oidc_find_${count}`,
      text: `SELECT t.model, t.id, t.payload::text, t.expires_at, t.consumed_at, t.grant_id, t.session_uid,
                    g.payload::text AS grant_payload, g.expires_at AS grant_expires_at, g.consumed_at AS grant_consumed_at,
                    s.payload::text AS session_payload, s.expires_at AS session_expires_at, s.consumed_at AS session_consumed_at,
                    t.account_id, ${accountOf('t.account_id')} AS account,
                    CASE WHEN t.model = 'Interaction' AND t.account_id IS NOT NULL THEN ${consentsOf('t.account_id')} END AS consents
               FROM (SELECT model, id, payload, expires_at, consumed_at, grant_id,
                            coalesce(payload->>'sessionUid', payload->'session'->>'uid') AS session_uid, ${ACCOUNT_ID} AS account_id
                       FROM oidc_payload t WHERE (model, id) IN (${keys})) t
               LEFT JOIN oidc_payload g ON g.model = 'Grant' AND g.id = t.grant_id
               LEFT JOIN LATERAL (SELECT payload, expires_at, consumed_at FROM oidc_payload
                                   WHERE model = 'Session' AND uid = t.session_uid LIMIT 1) s ON true`,
    };
    findStatements.set(count, statement);
  }
  return statement;
}

/** An upsert of `count` rows (a row saved again keeps its consumed_at: a rotated refresh token stays spent). */
const upsertStatements = new Map<number, SqlStatement>();
export function upsertStatement(count: number): SqlStatement {
  let statement = upsertStatements.get(count);
  if (!statement) {
    const rows = Array.from({ length: count }, (_, i) => `(${Array.from({ length: 8 }, (_, j) => `$${8 * i + j + 1}${j === 2 ? '::jsonb' : j === 7 ? '::timestamptz' : ''}`).join(', ')})`).join(', ');
    statement = {
      name: `oidc_upsert_${count}`,
      text: `INSERT INTO oidc_payload (model, id, payload, grant_id, user_code, uid, account_id, expires_at) VALUES ${rows}
             ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
               uid = excluded.uid, account_id = excluded.account_id, expires_at = excluded.expires_at
             RETURNING consumed_at`,
    };
    upsertStatements.set(count, statement);
  }
  return statement;
}

/**
 * What a request held until its answer (adapter.ts), in one statement: `deletes` rows removed
 * and `upserts` rows saved (never the same row twice), as one upsert above.
 */
const heldStatements = new Map<string, SqlStatement>();
export function heldWritesStatement(deletes: number, upserts: number): SqlStatement {
  if (!deletes) return upsertStatement(upserts);
  const name = `oidc_held_${deletes}_${upserts}`;
  let statement = heldStatements.get(name);
  if (!statement) {
    const keys = Array.from({ length: deletes }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    const remove = `DELETE FROM oidc_payload WHERE (model, id) IN (${keys})`;
    const offset = (text: string) => text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + 2 * deletes}`);
    statement = { name, text: upserts ? `WITH removed AS (${remove}) ${offset(upsertStatement(upserts).text)}` : remove };
    heldStatements.set(name, statement);
  }
  return statement;
}

export const statements = {
  /** A session by uid with its account and what that person allowed apps (oidc-provider checks the session behind an interaction). */
  findByUid: {
    name: 'oidc_find_by_uid',
    text: `SELECT ${COLUMNS}, account_id, ${accountOf('account_id')} AS account,
                  CASE WHEN account_id IS NOT NULL THEN ${consentsOf('account_id')} END AS consents
             FROM oidc_payload WHERE model = $1 AND uid = $2 LIMIT 1`,
  },
  findByUserCode: { name: 'oidc_find_by_user_code', text: `SELECT ${COLUMNS} FROM oidc_payload WHERE model = $1 AND user_code = $2 LIMIT 1` },
  consume: { name: 'oidc_consume', text: 'UPDATE oidc_payload SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL' },
  destroy: { name: 'oidc_destroy', text: 'DELETE FROM oidc_payload WHERE model = $1 AND id = $2' },
  revokeByGrantId: { name: 'oidc_revoke_by_grant', text: 'DELETE FROM oidc_payload WHERE model = $1 AND grant_id = $2' },
};
