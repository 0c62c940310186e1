// A passkey in software, for the benchmark's passkey sign-ins: what a platform authenticator
// does in a browser, without one. It answers navigator.credentials.get() for WebAuthn
// (ES256, user present and verified) and gives the COSE public key the server stores at
// registration, so the benchmark can enrol people without a browser ceremony.
import { createHash, createPrivateKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

// Authenticator data flags (WebAuthn §6.1): user present, user verified, backup eligible and state.
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;

export interface SoftPasskey {
  /** The credential id, base64url: the primary key of its row. */
  readonly id: string;
  /** The response to the options of a sign-in, as @simplewebauthn/browser would post it. */
  assert(options: { challenge: string; rpId?: string }, origin: string): Record<string, unknown>;
}

/** The COSE_Key (EC2, P-256, ES256) the server stores for a passkey and verifies with. */
export function cosePublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  // CBOR map of five: kty 2 (EC2), alg -7 (ES256), crv 1 (P-256), x and y as 32-byte strings.
  return Buffer.concat([Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]), x, Buffer.from([0x22, 0x58, 0x20]), y]);
}

/** The passkey `id` whose private key (PKCS#8 PEM) is `pem`, belonging to `userHandle`. */
export function softPasskey({ id, privateKey: pem, userHandle }: { id: string; privateKey: string; userHandle: string }, rpId: string): SoftPasskey {
  const privateKey = createPrivateKey(pem);
  let counter = 0;
  return {
    id,
    assert(options, origin) {
      const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
      const count = Buffer.alloc(4);
      count.writeUInt32BE(++counter);
      const authenticatorData = Buffer.concat([sha256(options.rpId ?? rpId), Buffer.from([UP | UV | BE | BS]), count]);
      const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), privateKey);
      return {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientDataJSON),
          authenticatorData: b64url(authenticatorData),
          signature: b64url(signature),
          userHandle,
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
  };
}
