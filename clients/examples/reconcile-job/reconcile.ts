// Brings the app's own copy of the accounts up to date from Sésame's users feed: reads the pages
// changed since the cursor it stored last time, upserts accounts, deletes removed ones
// (tombstones), and stores the new cursor with each page, in one transaction. Run it on a
// schedule (cron), on its own or next to the webhook receiver to repair anything it missed.
import { DatabaseSync } from 'node:sqlite';
import * as client from 'openid-client';

export interface Config {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The SQLite file. */
  databasePath: string;
  /** Accounts per page (the feed allows 1 to 500). */
  pageSize?: number;
}

/** An account as the feed (and webhooks) describe it, or the tombstone of a removed one. */
interface FeedUser {
  sub: string;
  email?: string;
  name?: string | null;
  roles?: string[];
  disabled?: boolean;
  deleted?: true;
  updated_at: string;
}

interface FeedPage {
  data: FeedUser[];
  next_cursor: string | null;
  has_more: boolean;
}

// Plain http only for a Sésame on this machine (`npm start`); any other issuer must be https.
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function openDatabase(path: string) {
  const db = new DatabaseSync(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      sub TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT, roles TEXT NOT NULL,
      disabled INTEGER NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS feed_cursor (feed TEXT PRIMARY KEY, cursor TEXT NOT NULL);`);
  return db;
}

export async function reconcile(config: Config) {
  const issuer = new URL(config.issuer);
  const oidc = await client.discovery(issuer, config.clientId, config.clientSecret, undefined, {
    execute: LOOPBACK.has(issuer.hostname) ? [client.allowInsecureRequests] : [],
  });
  const { access_token } = await client.clientCredentialsGrant(oidc, { scope: 'users:read' });

  const db = openDatabase(config.databasePath);
  const readCursor = db.prepare(`SELECT cursor FROM feed_cursor WHERE feed = 'users'`);
  const saveCursor = db.prepare(`INSERT INTO feed_cursor (feed, cursor) VALUES ('users', ?) ON CONFLICT (feed) DO UPDATE SET cursor = excluded.cursor`);
  const upsert = db.prepare(`
    INSERT INTO users (sub, email, name, roles, disabled, updated_at) VALUES (:sub, :email, :name, :roles, :disabled, :updated_at)
    ON CONFLICT (sub) DO UPDATE SET email = excluded.email, name = excluded.name, roles = excluded.roles,
      disabled = excluded.disabled, updated_at = excluded.updated_at`);
  const remove = db.prepare('DELETE FROM users WHERE sub = ?');

  const counts = { upserted: 0, removed: 0, pages: 0 };
  try {
    let cursor = (readCursor.get() as { cursor: string } | undefined)?.cursor;
    for (;;) {
      const url = new URL('api/v1/users', `${config.issuer}/`);
      if (cursor) url.searchParams.set('since', cursor);
      url.searchParams.set('limit', String(config.pageSize ?? 100));
      const response = await fetch(url, { headers: { authorization: `Bearer ${access_token}` } });
      if (!response.ok) throw new Error(`the users feed answered ${response.status}: ${await response.text()}`);
      const page = (await response.json()) as FeedPage;
      counts.pages++;

      db.exec('BEGIN');
      try {
        for (const user of page.data) {
          if (user.deleted) counts.removed += Number(remove.run(user.sub).changes);
          else {
            upsert.run({ sub: user.sub, email: user.email!, name: user.name ?? null, roles: JSON.stringify(user.roles ?? []), disabled: user.disabled ? 1 : 0, updated_at: user.updated_at });
            counts.upserted++;
          }
        }
        if (page.next_cursor) saveCursor.run(page.next_cursor);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
      cursor = page.next_cursor ?? undefined;
      if (!page.has_more) break;
    }
  } finally {
    db.close();
  }
  return counts;
}

if (import.meta.main) {
  const { ISSUER, CLIENT_ID, CLIENT_SECRET, DATABASE = 'users.sqlite' } = process.env;
  if (!ISSUER || !CLIENT_ID || !CLIENT_SECRET) throw new Error('set ISSUER, CLIENT_ID and CLIENT_SECRET');
  const counts = await reconcile({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, databasePath: DATABASE });
  console.log(`${counts.upserted} accounts added or updated, ${counts.removed} removed (${counts.pages} pages)`);
}
