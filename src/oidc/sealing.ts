// Encryption at rest of what would let anyone with a copy of the database act as Sésame: the
// private signing keys and the cookie keys. With SECRETS_ENCRYPTION_KEY set, they are stored
// sealed with AES-256-GCM under a key derived from it (HKDF-SHA256), each value with a random
// 96-bit nonce and bound to what it is (the key id or the secret's name) as associated data, so a
// sealed value cannot be moved to another row. Without the setting they are stored as they are.
//
// A sealed value reads `sealed:v1.<key id>.<nonce>.<ciphertext and tag>` (base64url); the key id
// tells "this value was sealed under another key" apart from tampering.
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
  /** `plaintext` as it should be stored (sealed when a key is configured). */
  seal(plaintext: string, context: string): string;
  /** The plaintext of a stored value, sealed or not. Throws SealingError if it cannot. */
  open(stored: string, context: string): string;
  isSealed(stored: string): boolean;
}

export function createSealer(secret: string | undefined): Sealer {
  const key = secret ? Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'sesame secrets at rest', 32)) : undefined;
  const keyId = key ? createHash('sha256').update(key).digest('base64url').slice(0, 8) : undefined;
  const isSealed = (stored: string) => stored.startsWith(PREFIX);

  return {
    sealing: key !== undefined,
    isSealed,

    seal(plaintext, context) {
      if (!key) return plaintext;
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${keyId}.${nonce.toString('base64url')}.${sealed.toString('base64url')}`;
    },

    open(stored, context) {
      if (!isSealed(stored)) return stored;
      if (!key) throw new SealingError('the database holds secrets encrypted with SECRETS_ENCRYPTION_KEY, which is not set');
      const [storedKeyId, nonce, sealed] = stored.slice(PREFIX.length).split('.');
      if (storedKeyId !== keyId) throw new SealingError('the database holds secrets encrypted with another SECRETS_ENCRYPTION_KEY than the one set');
      try {
        const body = Buffer.from(sealed ?? '', 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce ?? '', 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new SealingError(`a secret stored in the database (${context}) does not decrypt: it was altered`);
      }
    },
  };
}
