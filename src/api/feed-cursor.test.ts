import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './feed-cursor.ts';

describe('users feed cursor', () => {
  it('gives back the position it was made from', () => {
    const position = { at: new Date('2026-12-02T04:05:06.789Z'), id: '0b0e7c52-5a8e-4c8c-9d55-4a8e0e1d2f3a' };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['no separator', Buffer.from('2026-12-02T04:05:06.789Z').toString('base64url')],
    ['no id', Buffer.from('2026-12-02T04:05:06.789Z|').toString('base64url')],
    ['not a date', Buffer.from('2026-13-45T99:05:06.789Z|abc').toString('base64url')],
    ['a date without milliseconds', Buffer.from('2026-12-02T04:05:06Z|abc').toString('base64url')],
    ['a space in the id', Buffer.from('2026-12-02T04:05:06.789Z|a b').toString('base64url')],
    ['too long', 'A'.repeat(401)],
  ])('refuses %s', (_name, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });
});
