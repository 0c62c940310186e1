// Receives Sésame's user events (Standard Webhooks) and keeps the app's own copy of the accounts
// in a SQLite table. Each request: verify the signature on the raw body, skip a message already
// applied (Sésame retries with the same webhook-id), then apply it, in one transaction.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import { text } from 'node:stream/consumers';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export interface Config {
  /** The endpoint's secret, `whsec_…`, printed once by `webhooks add`. */
  secret: string;
  /** The SQLite file (`:memory:` for none). */
  databasePath: string;
}

/** The user as webhooks (and the users feed) describe it; a removed account is a tombstone. */
interface UserData {
  sub: string;
  email?: string;
  name?: string | null;
  roles?: string[];
  disabled?: boolean;
  deleted?: true;
  updated_at: string;
}

interface Event {
  type: string;
  data: UserData;
}

export function openDatabase(path: string) {
  const db = new DatabaseSync(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      sub TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT, roles TEXT NOT NULL,
      disabled INTEGER NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS webhook_messages (id TEXT PRIMARY KEY, received_at TEXT NOT NULL);`);
  return db;
}

export function createApp(config: Config) {
  const webhook = new Webhook(config.secret);
  const db = openDatabase(config.databasePath);
  const remember = db.prepare(`INSERT OR IGNORE INTO webhook_messages (id, received_at) VALUES (?, datetime('now'))`);
  // A retry can bring an older event after a newer one: keep whichever was updated last.
  const upsert = db.prepare(`
    INSERT INTO users (sub, email, name, roles, disabled, updated_at) VALUES (:sub, :email, :name, :roles, :disabled, :updated_at)
    ON CONFLICT (sub) DO UPDATE SET email = excluded.email, name = excluded.name, roles = excluded.roles,
      disabled = excluded.disabled, updated_at = excluded.updated_at
    WHERE excluded.updated_at >= users.updated_at`);
  const remove = db.prepare('DELETE FROM users WHERE sub = ?');

  function apply({ type, data }: Event) {
    if (type === 'user.deleted') remove.run(data.sub);
    else if (type === 'user.created' || type === 'user.updated') {
      upsert.run({ sub: data.sub, email: data.email!, name: data.name ?? null, roles: JSON.stringify(data.roles ?? []), disabled: data.disabled ? 1 : 0, updated_at: data.updated_at });
    }
  }

  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/webhooks/sesame') return res.writeHead(404).end();
    const body = await text(req);
    let event: Event;
    try {
      // Checks webhook-signature over webhook-id, webhook-timestamp and the body, exactly as
      // received, and that the timestamp is within five minutes (replays).
      event = webhook.verify(body, req.headers as Record<string, string>) as Event;
    } catch (error) {
      if (error instanceof WebhookVerificationError) return res.writeHead(400).end('invalid signature');
      throw error;
    }
    db.exec('BEGIN');
    try {
      const { changes } = remember.run(req.headers['webhook-id'] as string);
      if (changes) apply(event);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      console.error(error);
      return res.writeHead(500).end(); // Sésame tries again later
    }
    // Any 2xx tells Sésame the message arrived; anything else makes it retry later.
    res.writeHead(204).end();
  };
}

if (import.meta.main) {
  const { WEBHOOK_SECRET, DATABASE = 'users.sqlite', PORT = '3005' } = process.env;
  if (!WEBHOOK_SECRET) throw new Error('set WEBHOOK_SECRET (the whsec_… secret from `webhooks add`)');
  createServer(createApp({ secret: WEBHOOK_SECRET, databasePath: DATABASE })).listen(Number(PORT), () =>
    console.log(`Webhook receiver on http://localhost:${PORT}/webhooks/sesame`),
  );
}
