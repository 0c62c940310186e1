// One account to import, as `users import` reads it (a JSON line, or a row of an Auth.js
// database mapped to the same fields), checked and normalised once, here. A row that does not
// pass is refused with the reason; nothing of it is written.
import { z } from 'zod';
import { emailKey, isEmailAddress } from './users.ts';
import { hashFormat } from './passwords.ts';

export interface ImportRow {
  line: number;
  /** What a person reading the report recognises the row by: the external id, else the address. */
  ref: string;
  email: string;
  emailKey: string;
  emailVerified: boolean;
  givenName: string | null;
  familyName: string | null;
  picture: string | null;
  /** Absent: a new account gets DEFAULT_ROLES, an existing one keeps its roles. */
  roles?: string[];
  passwordHash?: string;
  googleSub?: string;
  externalId?: string;
  createdAt?: Date;
}

export type ParsedRow = { row: ImportRow } | { refused: { line: number; ref: string; reason: string } };

const name = z.string().trim().max(100).nullish();

export const importLineSchema = z
  .object({
    email: z.string().trim().refine(isEmailAddress, 'is not an e-mail address'),
    email_verified: z.boolean().default(false),
    given_name: name,
    family_name: name,
    name: z.string().trim().max(200).nullish(),
    picture: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000).nullish(),
    roles: z.array(z.string().trim().toLowerCase()).max(50).optional(),
    password_hash: z
      .string()
      .refine((hash) => hashFormat(hash) !== null, 'is not a bcrypt ($2a$, $2b$, $2y$) or argon2id hash')
      .nullish(),
    google_sub: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible characters').nullish(),
    external_id: z.union([z.string().trim().min(1).max(255), z.number().int().transform(String)]).nullish(),
    created_at: z.iso
      .datetime({ offset: true })
      .transform((text) => new Date(text))
      .refine((date) => date.getTime() <= Date.now(), 'is in the future')
      .nullish(),
  })
  .strict();

/** "Ada Lovelace" → given "Ada", family "Lovelace"; a single word is a given name. */
export function splitName(full: string | null | undefined): { givenName: string | null; familyName: string | null } {
  const words = (full ?? '').trim().split(/\s+/).filter(Boolean);
  return { givenName: words[0] ?? null, familyName: words.slice(1).join(' ') || null };
}

const describeIssue = (issue: z.core.$ZodIssue) =>
  issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}` : `${issue.path.join('.') || 'row'} ${issue.message}`;

export function parseImportRow(value: unknown, line: number, roleNames: readonly string[]): ParsedRow {
  const fallbackRef = (value as { external_id?: unknown; email?: unknown } | null)?.external_id ?? (value as { email?: unknown } | null)?.email;
  const refused = (reason: string) => ({ refused: { line, ref: typeof fallbackRef === 'string' || typeof fallbackRef === 'number' ? String(fallbackRef) : '-', reason } });
  const parsed = importLineSchema.safeParse(value);
  if (!parsed.success) return refused(parsed.error.issues.map(describeIssue).join('; '));
  const input = parsed.data;
  const unknownRole = input.roles?.find((role) => !roleNames.includes(role));
  if (unknownRole !== undefined) return refused(`unknown role "${unknownRole}": the roles are ${roleNames.join(', ')} (the ROLES setting)`);
  const names = input.given_name || input.family_name ? { givenName: input.given_name || null, familyName: input.family_name || null } : splitName(input.name);
  return {
    row: {
      line,
      ref: input.external_id ?? input.email,
      email: input.email,
      emailKey: emailKey(input.email),
      emailVerified: input.email_verified,
      ...names,
      picture: input.picture ?? null,
      ...(input.roles ? { roles: [...new Set(input.roles)] } : {}),
      ...(input.password_hash ? { passwordHash: input.password_hash } : {}),
      ...(input.google_sub ? { googleSub: input.google_sub } : {}),
      ...(input.external_id ? { externalId: input.external_id } : {}),
      ...(input.created_at ? { createdAt: input.created_at } : {}),
    },
  };
}

/** A row repeating the address, external_id or google_sub of an earlier row is refused: the first wins. */
export function refuseRepeats(parsed: ParsedRow[]): ParsedRow[] {
  const first = new Map<string, number>();
  return parsed.map((entry) => {
    if (!('row' in entry)) return entry;
    const { row } = entry;
    const keys = [`e-mail address ${row.emailKey}`, row.externalId && `external_id ${row.externalId}`, row.googleSub && `google_sub ${row.googleSub}`].filter(Boolean) as string[];
    const repeat = keys.find((key) => first.has(key));
    if (repeat) return { refused: { line: row.line, ref: row.ref, reason: `same ${repeat} as line ${first.get(repeat)}` } };
    for (const key of keys) first.set(key, row.line);
    return entry;
  });
}

/** A JSON-lines text as values by line number; blank lines are skipped, broken JSON refused. */
export type JsonLine = { line: number; value: unknown } | { line: number; error: string };

export function readJsonLines(text: string): JsonLine[] {
  return text.split(/\r?\n/).flatMap((content, index): JsonLine[] => {
    if (!content.trim()) return [];
    try {
      return [{ line: index + 1, value: JSON.parse(content) as unknown }];
    } catch {
      return [{ line: index + 1, error: 'is not valid JSON' }];
    }
  });
}
