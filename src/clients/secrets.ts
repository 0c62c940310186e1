// Client secrets are 256 random bits shown once and stored as a SHA-256 hash: with that much
// entropy a fast hash is enough, and the token endpoint stays fast. This rules out what needs
// the plaintext (client_secret_jwt, HS* ID tokens, secret-derived encryption); none is enabled.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256:';

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string): string {
  return PREFIX + hash('sha256', secret, 'base64url');
}

export function clientSecretMatches(storedHash: string, presented: string): boolean {
  const expected = Buffer.from(storedHash, 'utf8');
  const actual = Buffer.from(hashClientSecret(presented), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
