// The users feed's cursor: an opaque string to the caller, the (last change, id) position of the
// last row it was given to us. Base64url of "<ISO timestamp>|<id>", checked on the way back in.
import { z } from 'zod';
import type { ChangePosition } from '../accounts/user-changes.ts';

const positionSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\|[\x21-\x7e]{1,200}$/)
  .transform((text) => {
    const bar = text.indexOf('|');
    return { at: new Date(text.slice(0, bar)), id: text.slice(bar + 1) };
  })
  .refine((position) => !Number.isNaN(position.at.getTime()));

export function encodeCursor({ at, id }: ChangePosition): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** The position in a cursor, or null when the text is not one of ours. */
export function decodeCursor(cursor: string): ChangePosition | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return null;
  const parsed = positionSchema.safeParse(Buffer.from(cursor, 'base64url').toString('utf8'));
  return parsed.success ? parsed.data : null;
}
