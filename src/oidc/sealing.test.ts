import { describe, expect, it } from 'vitest';
import { createSealer, SealingError } from './sealing.ts';

const KEY = 'k'.repeat(40);

describe('createSealer', () => {
  it('stores values as they are without a key', () => {
    const sealer = createSealer(undefined);
    expect(sealer.sealing).toBe(false);
    expect(sealer.seal('{"d":"private"}', 'signing-key:a')).toBe('{"d":"private"}');
    expect(sealer.open('{"d":"private"}', 'signing-key:a')).toBe('{"d":"private"}');
  });

  it('seals with a fresh nonce every time, and opens what it sealed', () => {
    const sealer = createSealer(KEY);
    const one = sealer.seal('{"d":"private"}', 'signing-key:a');
    const two = sealer.seal('{"d":"private"}', 'signing-key:a');
    expect(one).toMatch(/^sealed:v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain('private');
    expect(sealer.isStale(one)).toBe(false);
    expect(sealer.isStale('["cookie"]')).toBe(true);
    expect(sealer.open(one, 'signing-key:a')).toBe('{"d":"private"}');
    expect(sealer.open(two, 'signing-key:a')).toBe('{"d":"private"}');
    // Plain values stored before the key was set still read.
    expect(sealer.open('["cookie"]', 'cookie-keys')).toBe('["cookie"]');
  });

  it('refuses a value moved to another row, or altered', () => {
    const sealer = createSealer(KEY);
    const sealed = sealer.seal('{"d":"private"}', 'signing-key:a');
    expect(() => sealer.open(sealed, 'signing-key:b')).toThrow(/signing-key:b\) does not decrypt: it was altered/);
    // The second-to-last character carries only ciphertext bits (the last may carry padding bits).
    const at = sealed.length - 2;
    const flipped = `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`;
    expect(flipped).not.toBe(sealed);
    expect(() => sealer.open(flipped, 'signing-key:a')).toThrow(SealingError);
    expect(() => sealer.open('sealed:v1.garbage', 'signing-key:a')).toThrow(SealingError);
  });

  it('tells a missing or different key apart', () => {
    const sealed = createSealer(KEY).seal('secret', 'cookie-keys');
    expect(() => createSealer(undefined).open(sealed, 'cookie-keys')).toThrow('the database holds secrets encrypted with SECRETS_ENCRYPTION_KEY, which is not set');
    expect(() => createSealer('x'.repeat(40)).open(sealed, 'cookie-keys')).toThrow('another SECRETS_ENCRYPTION_KEY than the one set');
  });

  it('opens what the previous key sealed, and says it should be sealed again under the new one', () => {
    const old = createSealer(KEY).seal('secret', 'cookie-keys');
    const rotating = createSealer('n'.repeat(40), KEY);
    expect(rotating.open(old, 'cookie-keys')).toBe('secret');
    expect(rotating.isStale(old)).toBe(true);
    const resealed = rotating.seal('secret', 'cookie-keys');
    expect(rotating.isStale(resealed)).toBe(false);
    expect(createSealer('n'.repeat(40)).open(resealed, 'cookie-keys')).toBe('secret');
    expect(() => createSealer(KEY).open(resealed, 'cookie-keys')).toThrow('another SECRETS_ENCRYPTION_KEY');
    expect(createSealer(undefined).isStale('["cookie"]')).toBe(false);
  });
});
