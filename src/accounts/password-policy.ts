// What a new password must be (NIST SP 800-63B §3.1.1.2): long enough, not absurdly long, no
// composition rules, never truncated or case-folded.
import { MAX_PASSWORD_LENGTH } from './passwords.ts';

export const MIN_PASSWORD_LENGTH = 12;

export type PasswordProblem = 'too-short' | 'too-long';

export function passwordProblem(password: string): PasswordProblem | null {
  // Count characters as people see them (code points), not UTF-16 units.
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (password.length > MAX_PASSWORD_LENGTH) return 'too-long';
  return null;
}
