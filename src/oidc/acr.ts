// How a sign-in is described to apps: `amr` (RFC 8176 values) and `acr` (Sésame's two levels,
// listed in discovery as acr_values_supported). One factor is something known (pwd) or an
// upstream account (fed); a second is something held: an authenticator app (otp) or a passkey
// (hwk: a security key, swk: a synced passkey). A passkey that verified its user (PIN or
// biometrics) is two factors on its own, and says so with `mfa`.

export const ACR_ONE_FACTOR = 'urn:sesame:acr:1fa';
export const ACR_MFA = 'urn:sesame:acr:mfa';
export const ACR_VALUES = [ACR_ONE_FACTOR, ACR_MFA] as const;

const FIRST_FACTORS = new Set(['pwd', 'fed']);
const SECOND_FACTORS = new Set(['otp', 'hwk', 'swk']);

/** True when `amr` names two factors (or a passkey that verified its user). */
export function isMultiFactor(amr: readonly string[]): boolean {
  if (amr.includes('mfa')) return true;
  return amr.some((method) => FIRST_FACTORS.has(method)) && amr.some((method) => SECOND_FACTORS.has(method));
}

/** The methods of both steps of one sign-in, once each, with `mfa` when they add up to two factors. */
export function combineAmr(...steps: (readonly string[])[]): string[] {
  const amr = [...new Set(steps.flat())].filter((method) => method !== 'mfa');
  return isMultiFactor(steps.flat()) ? [...amr, 'mfa'] : amr;
}

export function acrOf(amr: readonly string[]): string {
  return isMultiFactor(amr) ? ACR_MFA : ACR_ONE_FACTOR;
}

/** True when the authorization request's acr_values (space separated) ask for Sésame's MFA level. */
export function asksForMfa(acrValues: unknown): boolean {
  return typeof acrValues === 'string' && acrValues.split(' ').includes(ACR_MFA);
}
