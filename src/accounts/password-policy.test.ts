import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.ts';

const ZOE = { email: 'zoe.durand@example.com', givenName: 'Zoé', familyName: 'Durand' };
const reasonOf = async (password: string, context = ZOE) => (await passwordProblem(password, context))?.reason ?? null;

describe('passwordProblem', () => {
  // Issue 8, finding 5: long enough, on no list, and still guessed at once.
  it.each([
    ['1234567890123', 'like-common'],
    ['12345678901234', 'like-common'],
    ['123123123123', 'repeat'],
    ['abcd1234abcd', 'like-common'],
  ])('refuses the obvious password %s (%s), saying what would help', async (password, reason) => {
    expect(await passwordProblem(password, ZOE)).toEqual({ reason, advice: ['more-words'] });
  });

  it.each([
    ['aaaaaaaaaaaa', 'repeat'],
    ['abcdefghijkl', 'sequence'],
    ['987654321098', 'sequence'],
    ['azertyuiopqs', 'keyboard'],
    ['qwertyuiopas', 'like-common'],
  ])('refuses %s as %s', async (password, reason) => {
    expect(await reasonOf(password)).toBe(reason);
  });

  it.each(['password1234', 'Password12345', 'iloveyou2024!!', 'P@ssw0rd12345', '!!sunshine2024'])('refuses %s as a breached password or an obvious variation of one', async (password) => {
    expect(await passwordProblem(password, ZOE)).toEqual({ reason: 'common', advice: [] });
  });

  it.each(['zoe.durand.2024', 'Zoé Durand 1990', 'durand-zoe!!42x', 'ZOEDURAND-kettle'])('refuses %s, made of the person’s address or full name', async (password) => {
    expect(await reasonOf(password)).toBe('personal');
  });

  it('says what does not help when a weak password relies on it', async () => {
    expect(await passwordProblem('MONKEYDONKEY', ZOE)).toEqual({ reason: 'like-common', advice: ['all-capitals', 'more-words'] });
  });

  it.each([
    'correct horse battery staple',
    'lantern river cobalt',
    'mon chat mange des croquettes',
    'purple-giraffe-sings-loudly',
    'kT9#vLq2mWx8',
    'Zoé aime les tulipes bleues',
  ])('accepts the good password %s', async (password) => {
    expect(await passwordProblem(password, ZOE)).toBeNull();
  });

  it('keeps the length rules: 12 characters (counted as people count them) to 1024', async () => {
    expect(await reasonOf('violet moth')).toBe('too-short');
    expect(await reasonOf('éléphant vo')).toBe('too-short');
    expect(await reasonOf('éléphant vol')).toBeNull();
    const long = 'ochre meadow kettle violin saffron glacier pebble thistle '.repeat(20);
    expect(await reasonOf(long.slice(0, 1024))).toBeNull();
    expect(await reasonOf(long.slice(0, 1025))).toBe('too-long');
  });

  it('judges a password by its first 64 characters, whatever follows', async () => {
    expect(await reasonOf(`${'1'.repeat(64)}ochre meadow kettle violin`)).toBe('repeat');
    expect(await reasonOf(`kettle violin saffron glacier ${'1'.repeat(900)}`)).toBeNull();
  });
});
