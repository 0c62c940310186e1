// What a new password must be (NIST SP 800-63B §3.1.1.2): at least 12 characters, long ones
// welcome, no composition rules, never truncated or case-folded, and not a common or breached
// password, checked offline against the list shipped with @zxcvbn-ts/language-common (~49 000
// passwords from breach corpora), nor an obvious variation of one, nor the person's own address.
import { dictionary } from '@zxcvbn-ts/language-common';
import { MAX_PASSWORD_LENGTH } from './passwords.ts';

export const MIN_PASSWORD_LENGTH = 12;

export type PasswordProblem = 'too-short' | 'too-long' | 'common' | 'personal';

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set((dictionary as Record<string, string[]>)['passwords-common']!.map((password) => password.toLowerCase()));
  return common;
}

/** The password without what people add to a common one to pass rules: digits, symbols, years. */
function stem(password: string): string {
  return password.toLowerCase().replace(/[^\p{L}]+$/u, '').replace(/^[^\p{L}]+/u, '');
}

function isRepetitive(password: string): boolean {
  const chars = [...password];
  if (new Set(chars).size <= 2) return true;
  // A run like "abcdefghijkl" or "123456789012" or "987654321098".
  const codes = chars.map((char) => char.codePointAt(0)!);
  const steps = codes.slice(1).map((code, i) => code - codes[i]!);
  return steps.every((step) => step === steps[0] && Math.abs(step) === 1) || steps.every((step) => Math.abs(step) <= 1 && /^\d+$/.test(password));
}

export function passwordProblem(password: string, context: { email?: string } = {}): PasswordProblem | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (password.length > MAX_PASSWORD_LENGTH) return 'too-long';
  const lower = password.toLowerCase();
  const list = commonPasswords();
  if (list.has(lower) || isRepetitive(password)) return 'common';
  const core = stem(password);
  if (core.length >= 4 && list.has(core)) return 'common';
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && (lower.includes(local) || lower === context.email!.toLowerCase())) return 'personal';
  return null;
}
