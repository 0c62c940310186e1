// Reads the accounts of an Auth.js / NextAuth app from its database, as the Auth.js Prisma
// adapter lays it out (tables "User" and "Account"; https://authjs.dev/getting-started/adapters/prisma),
// and maps each to the fields of a `users import` line, so one validation checks both sources:
//   id → external_id · email · emailVerified (a date) → email_verified · name → given/family names
//   image → picture · password | passwordHash (bcrypt, added by many apps) → password_hash
//   role (e.g. ADMIN) → roles ["admin"] · createdAt, when the app added it → created_at
//   Account with provider "google" → google_sub = providerAccountId
import pg from 'pg';

export class AuthjsSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthjsSourceError';
  }
}

const PASSWORD_COLUMNS = ['password', 'passwordHash', 'hashedPassword'];

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** One JSON-lines-shaped value per Auth.js user, in a stable order (by id). */
export async function readAuthjsUsers(url: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: columns } = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name IN ('User', 'Account')`,
    );
    const has = (table: string, column: string) => columns.some((c) => c.table_name === table && c.column_name === column);
    for (const column of ['id', 'email', 'name', 'emailVerified', 'image']) {
      if (!has('User', column)) throw new AuthjsSourceError(`no "User"."${column}" column: this is not an Auth.js Prisma adapter database`);
    }
    const password = PASSWORD_COLUMNS.find((column) => has('User', column));
    const optional = (column: string | undefined, as: string) => (column ? `${ident(column)} AS ${as}` : `NULL AS ${as}`);
    const { rows: users } = await client.query(
      `SELECT id, email, name, "emailVerified" AS email_verified, image,
              ${optional(password, 'password_hash')}, ${optional(has('User', 'role') ? 'role' : undefined, 'role')},
              ${optional(has('User', 'createdAt') ? 'createdAt' : undefined, 'created_at')}
         FROM "User" ORDER BY id`,
    );
    const google = new Map<string, string>();
    if (has('Account', 'providerAccountId')) {
      const { rows } = await client.query<{ userId: string; providerAccountId: string }>(
        `SELECT "userId", "providerAccountId" FROM "Account" WHERE provider = 'google' ORDER BY "providerAccountId"`,
      );
      for (const row of rows) if (!google.has(row.userId)) google.set(row.userId, row.providerAccountId);
    }
    return users.map((user) => ({
      external_id: String(user.id),
      email: user.email ?? '',
      email_verified: user.email_verified !== null,
      ...(user.name ? { name: user.name } : {}),
      ...(user.image ? { picture: user.image } : {}),
      ...(user.password_hash ? { password_hash: user.password_hash } : {}),
      ...(user.role ? { roles: [String(user.role).toLowerCase()] } : {}),
      ...(google.has(user.id) ? { google_sub: google.get(user.id) } : {}),
      ...(user.created_at ? { created_at: new Date(user.created_at).toISOString() } : {}),
    }));
  } finally {
    await client.end();
  }
}
