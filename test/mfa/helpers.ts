// What the second-factor suites share: codes computed from a secret as an authenticator app
// does (otpauth), a TOTP factor given to a test account through Sésame's own service (not the
// pages: those are the account page's), and the readings of the pages.
import { expect } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { createTotp } from '../../src/accounts/totp.ts';
import { createRecoveryCodes } from '../../src/accounts/recovery-codes.ts';
import { createSealer } from '../../src/oidc/sealing.ts';
import type { Federation, Page } from '../federation/harness.ts';
import { heading } from '../federation/harness.ts';

export { ACR_MFA, ACR_ONE_FACTOR } from '../../src/oidc/acr.ts';

/** What a person reads (English). */
export const SAYS = {
  code: 'Confirm it is you',
  enrol: 'Set up an authenticator app',
  codes: 'Save your recovery codes',
  wrongCode: 'This code is not right, or was already used. Wait for the next code and try again.',
  wrongRecovery: 'This recovery code is not right, or was already used.',
} as const;

/** The code an app shows `steps` time steps (30 s) from now. */
export const codeAt = (secret: string, steps = 0) => TOTP.generate({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), timestamp: Date.now() + steps * 30_000 });

/** Six digits that are none of the codes accepted now (±1 step). */
export function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((step) => codeAt(secret, step)));
  for (let n = 123456; ; n++) if (!valid.has(String(n))) return String(n);
}

function services(h: Federation) {
  const { config } = h.f.server;
  const sealer = createSealer(config.secretsEncryptionKey, config.previousSecretsEncryptionKey);
  return { totp: createTotp({ prisma: h.prisma, sealer, issuerName: config.brandName }), recoveryCodes: createRecoveryCodes({ prisma: h.prisma }) };
}

/**
 * Gives the account a confirmed authenticator app and returns its secret. Confirmed with the
 * previous step's code, so the current one and the next are still unused.
 */
export async function giveTotp(h: Federation, user: { id: string; email: string }): Promise<string> {
  const { totp } = services(h);
  const enrolment = await totp.begin(user);
  expect(enrolment).not.toBeNull();
  expect(await totp.confirm(user.id, codeAt(enrolment!.secret, -1))).toBe(true);
  return enrolment!.secret;
}

export const giveRecoveryCodes = (h: Federation, userId: string) => services(h).recoveryCodes.generate(userId);

/** The page asks for a code of the authenticator app, and offers no password field. */
export function expectCodePage(page: Page): void {
  expect(page.stoppedAt, 'the sign-in went back to the app with one factor').toBeUndefined();
  expect(heading(page), page.body.slice(0, 800)).toBe(SAYS.code);
  expect(page.doc.querySelector('input[name="password"]')).toBeNull();
  expect(page.doc.querySelector('form[action$="/abort"]'), 'a way out').not.toBeNull();
}

/** The enrolment page: a QR code drawn inline as SVG, and the secret to type by hand. */
export function secretOnEnrolPage(page: Page): string {
  expect(page.stoppedAt, 'the sign-in went back to the app with one factor').toBeUndefined();
  expect(heading(page), page.body.slice(0, 800)).toBe(SAYS.enrol);
  expect(page.doc.querySelector('figure.qr svg path')).not.toBeNull();
  const secret = page.doc.querySelector('#totp-secret')?.text.replace(/\s/g, '') ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  return secret;
}
