// MFA_REQUIRED=true: every sign-in takes two factors; people without a second factor set up an
// authenticator app at their next sign-in, whether they came with a password or through Google.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.ts';
import { heading, openSignIn, startFederation, tokensFor } from '../federation/harness.ts';
import type { Federation } from '../federation/harness.ts';
import { ACR_MFA, codeAt, expectCodePage, SAYS, secretOnEnrolPage } from './helpers.ts';

describe.each(STORES)('MFA_REQUIRED (%s)', (kind) => {
  let h: Federation;

  beforeAll(async () => {
    h = await startFederation(kind, { MFA_REQUIRED: 'true' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('has an account without a second factor enrol at sign-in, with a code computed from the secret on the page', async () => {
    const account = await h.account();
    const browser = h.browser();
    const { flow, page } = await openSignIn(h, browser);
    const enrol = await browser.submit(page, { email: account.email, password: account.password });
    const secret = secretOnEnrolPage(enrol);
    expect(enrol.doc.querySelector('label[for="code"]')).not.toBeNull();

    // The enrolment alone is no session: another sign-in in this browser starts again.
    const meanwhile = await openSignIn(h, browser);
    expect(meanwhile.page.doc.querySelector('input[name="password"]')).not.toBeNull();

    const codesPage = await browser.submit(enrol, { code: codeAt(secret) });
    expect(heading(codesPage)).toBe(SAYS.codes);
    // Drawn again (a reload), the page no longer shows the codes: they were shown once.
    const reloaded = await browser.open(`${h.f.issuer}/interaction/${new URL(codesPage.url).pathname.split('/')[2]}`);
    expect(reloaded.doc.querySelectorAll('.recovery-codes code')).toHaveLength(0);
    const done = await browser.submit(reloaded, {});
    const claims = (await tokensFor(h, flow, done)).claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe(ACR_MFA);

    // From then on: the code, after the password.
    const other = h.browser();
    const next = await openSignIn(h, other);
    const codePage = await other.submit(next.page, { email: account.email, password: account.password });
    expectCodePage(codePage);
    const again = await other.submit(codePage, { code: codeAt(secret, 1) });
    expect((await tokensFor(h, next.flow, again)).claims()!.acr).toBe(ACR_MFA);
  });

  it('has a newcomer through Google enrol the same way', async () => {
    const who = h.googleAccount();
    const browser = h.browser();
    const { flow, page } = await openSignIn(h, browser);
    h.google.next = who;
    const enrol = await browser.submit(page, {}, { selector: 'form[action$="/federated/google"]' });
    const secret = secretOnEnrolPage(enrol);
    const done = await browser.submit(await browser.submit(enrol, { code: codeAt(secret) }), {});
    const claims = (await tokensFor(h, flow, done)).claims()!;
    expect(claims.email).toBe(who.email);
    expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'otp', 'mfa']));
    expect(claims.acr).toBe(ACR_MFA);
  });
});
