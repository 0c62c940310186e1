// An upstream identity waiting for its owner to prove control of an existing account: sealed
// (HMAC) into the linking form, so it cannot be altered, and bound to one account, one sign-in
// and ten minutes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Identity } from './connector.ts';

const TTL_MS = 10 * 60 * 1000;

export interface PendingLink {
  identity: Identity;
  userId: string;
  uid: string;
  expires: number;
}

export function createPendingSeal(key: Buffer) {
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url');
  return {
    seal(identity: Identity, userId: string, uid: string): string {
      const body = Buffer.from(JSON.stringify({ identity, userId, uid, expires: Date.now() + TTL_MS } satisfies PendingLink)).toString('base64url');
      return `${body}.${sign(body)}`;
    },

    /** The pending link, if the seal is intact, for this sign-in, and not expired. */
    open(sealed: string, uid: string): PendingLink | undefined {
      const [body = '', signature = ''] = sealed.split('.');
      const expected = Buffer.from(sign(body));
      const actual = Buffer.from(signature);
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
      const pending = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PendingLink;
      return pending.uid === uid && pending.expires > Date.now() ? pending : undefined;
    },
  };
}

export type PendingSeal = ReturnType<typeof createPendingSeal>;
