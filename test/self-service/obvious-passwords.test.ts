// Issue 8, finding 5: the password policy let obvious passwords through (long enough, on no
// list, yet guessed at once). They are refused on the registration and reset pages, with the
// reason next to the field, in the person's language; good passphrases still pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../support/browser.ts';
import { STORES } from '../support/stores.ts';
import { heading, register, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const MORE_WORDS = 'Add a few more words that do not go together; symbols, digits and capitals are not needed.';
const LIKE_COMMON = `This password is made of common passwords that appear in lists of leaked passwords. ${MORE_WORDS}`;
const REPEATED = `Repeated characters or groups, like “aaa” or “123123”, are easy to guess. ${MORE_WORDS}`;

/** The reason shown next to the password field, after checking that the field points to it. */
function reasonNextToPassword(page: Page): string | undefined {
  const error = page.doc.querySelector('#password-error');
  expect(page.doc.querySelector('input#password')?.getAttribute('aria-describedby')?.split(' ')).toContain('password-error');
  expect(page.doc.querySelector('input#password')?.getAttribute('aria-invalid')).toBe('true');
  return error?.text;
}

describe.each(STORES)('the password policy lets obvious passwords through (issue 8, finding 5), on %s', (kind) => {
  let h: Harness;
  let people = 0;
  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
  });
  afterAll(() => h?.stop());

  it.each([
    ['1234567890123', LIKE_COMMON],
    ['12345678901234', LIKE_COMMON],
    ['123123123123', REPEATED],
    ['abcd1234abcd', LIKE_COMMON],
  ])('refuses %s at registration, saying why next to the field, and creates nothing', async (password, reason) => {
    const email = `obvious-${++people}@example.com`;
    const page = await register(h, h.browser(), { email, password });
    expect(page.status).toBe(400);
    expect(reasonNextToPassword(page)).toBe(reason);
    expect(page.body).not.toContain(password);
    expect(await h.inbox(email)).toEqual([]);
    expect(await h.prisma.user.count({ where: { email } })).toBe(0);
  });

  it('says why in French to a French reader', async () => {
    const page = await register(h, h.browser({ 'accept-language': 'fr-FR,fr;q=0.9' }), { email: `obvious-${++people}@example.com`, password: '123123123123' });
    expect(page.status).toBe(400);
    expect(reasonNextToPassword(page)).toBe(
      'Les caractères ou groupes répétés, comme «\u00a0aaa\u00a0» ou «\u00a0123123\u00a0», sont faciles à deviner. Ajoutez quelques mots qui ne vont pas ensemble ; symboles, chiffres et majuscules sont inutiles.',
    );
  });

  it('refuses the person’s own name as a password', async () => {
    const page = await register(h, h.browser(), { email: `obvious-${++people}@example.com`, password: 'Zoé Durand 1990', given_name: 'Zoé', family_name: 'Durand' });
    expect(reasonNextToPassword(page)).toBe('Do not use your name or e-mail address in your password.');
  });

  it('refuses them on the reset page too, and keeps the link usable', async () => {
    const account = await h.account({ label: 'reset-obvious' });
    const browser = h.browser();
    await browser.submit(await browser.open(`${h.f.issuer}/account/forgot`), { email: account.email });
    let page = await browser.open((await h.latest(account.email, 'reset-password')).link!);
    h.keep('abcd1234abcd');
    page = await browser.submit(page, { password: 'abcd1234abcd' });
    expect(page.status).toBe(400);
    expect(reasonNextToPassword(page)).toBe(LIKE_COMMON);
    h.keep('tangerine ferry sketch');
    expect(heading(await browser.submit(page, { password: 'tangerine ferry sketch' }))).toBe('Your password was changed');
  });

  it('still accepts a passphrase of a few unrelated words', async () => {
    const page = await register(h, h.browser(), { email: `obvious-${++people}@example.com`, password: 'tangerine ferry sketch' });
    expect(page.status).toBe(200);
    expect(heading(page)).toBe('Check your inbox');
  });
});
