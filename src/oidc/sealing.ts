// Encryption at rest of what would let anyone with a copy of the database act as Sésame: the
// private signing keys and the cookie keys. With SECRETS_ENCRYPTION_KEY set, they are stored
// sealed with AES-256-GCM under a key derived from it (HKDF-SHA256), each value with a random
// 96-bit nonce and bound to what it is (the key id or the secret's name) as associated data, so a
// sealed value cannot be moved to another row. Without the setting they are stored as they are.
//
// A sealed value reads `sealed:v1.<key id>.<nonce>.<ciphertext and tag>` (base64url); the key id
// tells "this value was sealed under another key" apart from tampering, and lets a change of key
// (SECRETS_ENCRYPTION_KEY_PREVIOUS) seal everything again under the new one.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'sealed:v1.';

export class SealingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealingError';
  }
}

export interface Sealer {
  /** True when a key is configured, so that new values are stored sealed. */
  readonly sealing: boolean;
  /** `plaintext` as it should be stored (sealed under the current key when one is configured). */
  seal(plaintext: string, context: string): string;
  /** The plaintext of a stored value, sealed or not. Throws SealingError if it cannot. */
  open(stored: string, context: string): string;
  /** True when a stored value should be written again: in the clear, or sealed under the previous key. */
  isStale(stored: string): boolean;
}

interface SealingKey {
  id: string;
  key: Buffer;
}

function sealingKey(secret: string): SealingKey {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'sesame secrets at rest', 32));
  return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
}

/**
 * `secret` seals; `previous` (the value before a change of SECRETS_ENCRYPTION_KEY) only opens what
 * was sealed under it, until everything has been sealed again under `secret`.
 */
export function createSealer(secret: string | undefined, previous?: string): Sealer {
  const current = secret ? sealingKey(secret) : undefined;
  const readable = [current, previous ? sealingKey(previous) : undefined].filter((key) => key !== undefined);
  const isSealed = (stored: string) => stored.startsWith(PREFIX);

  return {
    sealing: current !== undefined,

    seal(plaintext, context) {
      if (!current) return plaintext;
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${current.id}.${nonce.toString('base64url')}.${sealed.toString('base64url')}`;
    },

    open(stored, context) {
      if (!isSealed(stored)) return stored;
      if (!current) throw new SealingError('the database holds secrets encrypted with SECRETS_ENCRYPTION_KEY, which is not set');
      const [keyId, nonce, sealed] = stored.slice(PREFIX.length).split('.');
      const key = readable.find((candidate) => candidate.id === keyId);
      if (!key) throw new SealingError('the database holds secrets encrypted with another SECRETS_ENCRYPTION_KEY than the one set');
      try {
        const body = Buffer.from(sealed ?? '', 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(nonce ?? '', 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new SealingError(`a secret stored in the database (${context}) does not decrypt: it was altered`);
      }
    },

    isStale(stored) {
      return current !== undefined && !stored.startsWith(`${PREFIX}${current.id}.`);
    },
  };
}
