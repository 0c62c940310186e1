// An upstream identity waiting for its owner to prove control of an existing account: sealed
// (HMAC) into the linking form, so it cannot be altered, and bound to one account, one sign-in
// and ten minutes.
import type { Identity } from './connector.ts';
import type { PurposeKey } from '../oidc/secrets.ts';

const TTL_MS = 10 * 60 * 1000;

export interface PendingLink {
  identity: Identity;
  userId: string;
  uid: string;
  expires: number;
}

/** `key` signs with the active cookie key and accepts every kept one (oidc/secrets.ts). */
export function createPendingSeal(key: PurposeKey) {
  return {
    seal(identity: Identity, userId: string, uid: string): string {
      const body = Buffer.from(JSON.stringify({ identity, userId, uid, expires: Date.now() + TTL_MS } satisfies PendingLink)).toString('base64url');
      return `${body}.${key.sign(body)}`;
    },

    /** The pending link, if the seal is intact, for this sign-in, and not expired. */
    open(sealed: string, uid: string): PendingLink | undefined {
      const [body = '', signature = ''] = sealed.split('.');
      if (!key.verify(body, signature)) return undefined;
      const pending = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PendingLink;
      return pending.uid === uid && pending.expires > Date.now() ? pending : undefined;
    },
  };
}

export type PendingSeal = ReturnType<typeof createPendingSeal>;
