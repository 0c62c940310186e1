// Reading submitted forms: every field as a string (a repeated or missing field is an empty
// one), and the messages for the checks shared by several forms.
import type Koa from 'koa';
import type { Translate } from '../i18n/index.ts';
import { MIN_PASSWORD_LENGTH } from '../accounts/password-policy.ts';
import type { PasswordProblem } from '../accounts/password-policy.ts';
import { MAX_PASSWORD_LENGTH } from '../accounts/passwords.ts';
import { isEmailAddress } from '../accounts/users.ts';

export function field(ctx: Koa.Context, name: string): string {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

export type FieldErrors = Record<string, string>;

const MAX_NAME_LENGTH = 100;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, brackets included. */
const MAX_EMAIL_LENGTH = 254;

export function checkName(t: Translate, value: string): string | undefined {
  if (!value.trim()) return t('form.required');
  if (value.length > MAX_NAME_LENGTH) return t('form.too-long', { max: t.count('character', MAX_NAME_LENGTH) });
  return undefined;
}

export function checkEmail(t: Translate, value: string): string | undefined {
  if (!value.trim()) return t('form.required');
  if (value.trim().length > MAX_EMAIL_LENGTH) return t('form.too-long', { max: t.count('character', MAX_EMAIL_LENGTH) });
  if (!isEmailAddress(value.trim())) return t('form.email');
  return undefined;
}

/** Why the password is refused, then what would help: one message, shown next to the field. */
export function passwordMessage(t: Translate, { reason, advice }: PasswordProblem): string {
  const why = t(`password.${reason}`, { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH });
  return [why, ...advice.map((key) => t(`password.advice.${key}`))].join(' ');
}

export function passwordHint(t: Translate): string {
  return t('password.hint', { min: MIN_PASSWORD_LENGTH });
}

/** The fields that have an error, or undefined when there are none. */
export function errorsOf(checks: Record<string, string | undefined>): FieldErrors | undefined {
  const errors = Object.fromEntries(Object.entries(checks).filter(([, message]) => message !== undefined)) as FieldErrors;
  return Object.keys(errors).length ? errors : undefined;
}
