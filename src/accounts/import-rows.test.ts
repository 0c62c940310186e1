import { describe, expect, it } from 'vitest';
import { parseImportRow, readJsonLines, refuseRepeats, splitName } from './import-rows.ts';
import { hashFormat } from './passwords.ts';

const ROLES = ['member', 'admin'];
const BCRYPT = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
const ARGON2ID = '$argon2id$v=19$m=4096,p=1,t=3$HyIUQEoiu3RAzQhG2Vkonw$SsDuirHf+INO+zLUWXKrwlT30KGIlXxR5UbKZnCCGeU';

describe('password hashes an import accepts', () => {
  it.each([
    [BCRYPT, 'bcrypt'],
    [BCRYPT.replace('$2b$', '$2a$'), 'bcrypt'],
    [BCRYPT.replace('$2b$', '$2y$'), 'bcrypt'],
    [ARGON2ID, 'argon2id'],
    [ARGON2ID.replace('m=4096,p=1,t=3', 'm=19456,t=2,p=1'), 'argon2id'],
    [ARGON2ID.replace('$argon2id$', '$argon2i$'), null],
    [ARGON2ID.replace('m=4096,p=1,t=3', 'm=4096,m=1,t=3'), null],
    [BCRYPT.replace('$10$', '$03$'), null],
    [BCRYPT.slice(0, -1), null],
    ['5f4dcc3b5aa765d61d8327deb882cf99', null],
    ['{SSHA}abc', null],
  ])('%s → %s', (hash, format) => {
    expect(hashFormat(hash)).toBe(format);
  });
});

describe('an import row', () => {
  const parse = (value: unknown) => parseImportRow(value, 7, ROLES);

  it('normalises what it accepts', () => {
    expect(parse({ email: ' Ada@Example.com ', name: 'Ada King Lovelace', roles: ['ADMIN', 'admin'], external_id: 42, password_hash: BCRYPT, created_at: '2020-01-02T03:04:05+02:00' })).toEqual({
      row: {
        line: 7, ref: '42', email: 'Ada@Example.com', emailKey: 'ada@example.com', emailVerified: false,
        givenName: 'Ada', familyName: 'King Lovelace', picture: null, roles: ['admin'], passwordHash: BCRYPT, externalId: '42',
        createdAt: new Date('2020-01-02T01:04:05Z'),
      },
    });
  });

  it('prefers given and family names over name', () => {
    expect(parse({ email: 'a@example.com', name: 'Whole Name', given_name: 'Given' })).toMatchObject({ row: { givenName: 'Given', familyName: null } });
  });

  it.each([
    [{ email: 'nope' }, 'email is not an e-mail address'],
    [{ email: 'a@example.com', roles: ['owner'] }, 'unknown role "owner"'],
    [{ email: 'a@example.com', password_hash: 'plain' }, 'password_hash is not a bcrypt'],
    [{ email: 'a@example.com', created_at: '2999-01-01T00:00:00Z' }, 'created_at is in the future'],
    [{ email: 'a@example.com', picture: 'javascript:alert(1)' }, 'picture must be an http(s) URL'],
    [{ email: 'a@example.com', emailVerified: true }, 'unknown field "emailVerified"'],
    [{ email: 'a@example.com', email_verified: 'yes' }, 'email_verified'],
    [null, 'row'],
  ])('refuses %j: %s', (value, reason) => {
    const parsed = parse(value);
    expect('refused' in parsed && parsed.refused.reason).toContain(reason);
  });

  it('splits a full name at its first space', () => {
    expect(splitName('Jean-Pierre de la Tour')).toEqual({ givenName: 'Jean-Pierre', familyName: 'de la Tour' });
    expect(splitName('Cher')).toEqual({ givenName: 'Cher', familyName: null });
    expect(splitName(null)).toEqual({ givenName: null, familyName: null });
  });

  it('refuses a row repeating an earlier row’s address, external_id or google_sub', () => {
    const rows = [
      { email: 'a@example.com', external_id: 'x', google_sub: 'g' },
      { email: 'A@EXAMPLE.com' },
      { email: 'b@example.com', external_id: 'x' },
      { email: 'c@example.com', google_sub: 'g' },
      { email: 'd@example.com' },
    ].map((value, i) => parseImportRow(value, i + 1, ROLES));
    expect(refuseRepeats(rows).map((entry) => ('refused' in entry ? entry.refused.reason : 'ok'))).toEqual([
      'ok',
      'same e-mail address a@example.com as line 1',
      'same external_id x as line 1',
      'same google_sub g as line 1',
      'ok',
    ]);
  });

  it('reads JSON lines by line number, skipping blank lines', () => {
    expect(readJsonLines('{"a":1}\n\n{oops\r\n{"b":2}\n')).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, error: 'is not valid JSON' },
      { line: 4, value: { b: 2 } },
    ]);
  });
});
