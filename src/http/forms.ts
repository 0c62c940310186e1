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

export function checkName(t: Translate, value: string): string | undefined {
  if (!value.trim()) return t('form.required');
  if (value.length > 100) return t('form.too-long');
  return undefined;
}

export function checkEmail(t: Translate, value: string): string | undefined {
  if (!value.trim()) return t('form.required');
  if (!isEmailAddress(value.trim())) return t('form.email');
  return undefined;
}

export function passwordMessage(t: Translate, problem: PasswordProblem): string {
  return t(`password.${problem}`, { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH });
}

export function passwordHint(t: Translate): string {
  return t('password.hint', { min: MIN_PASSWORD_LENGTH });
}

/** The fields that have an error, or undefined when there are none. */
export function errorsOf(checks: Record<string, string | undefined>): FieldErrors | undefined {
  const errors = Object.fromEntries(Object.entries(checks).filter(([, message]) => message !== undefined)) as FieldErrors;
  return Object.keys(errors).length ? errors : undefined;
}
