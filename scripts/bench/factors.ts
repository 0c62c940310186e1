// Second factors for the benchmark's people, enrolled before the clock starts the way Sésame's
// own services enrol them (src/accounts/totp.ts for an authenticator app; a passkey row as
// src/accounts/passkeys.ts stores it after a registration), through the target's database while it
// runs (the embedded store too, as the admin CLI reaches it). The load generator then signs in
// with what only the person would have: the TOTP secret, the passkey's private key.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TOTP, Secret } from 'otpauth';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createTotp } from '../../src/accounts/totp.ts';
import { createSealer } from '../../src/oidc/sealing.ts';
import { cosePublicKey } from './soft-authenticator.ts';

export type FactorKind = 'totp' | 'passkey';

/** What the load generator needs to sign a person in with their second factor or passkey. */
export type Factors =
  | { kind: 'totp'; secrets: Record<string, string> }
  | { kind: 'passkey'; keys: Record<string, { id: string; privateKey: string; userHandle: string }> };

/** Whether the checkout at `dir` has second factors at all (an earlier commit may not). */
export const hasFactors = (dir: string) => existsSync(join(dir, 'src', 'accounts', 'totp.ts')) && existsSync(join(dir, 'src', 'accounts', 'passkeys.ts'));

export async function enrolFactors(env: NodeJS.ProcessEnv, emails: string[], kind: FactorKind): Promise<Factors> {
  const config = loadConfig(env);
  const db = await openDatabase(config.database, { migrate: false, attach: true, poolSize: 2 });
  try {
    const users = await db.prisma.user.findMany({ where: { emailKey: { in: emails } }, select: { id: true, email: true } });
    if (users.length !== emails.length) throw new Error(`bench: ${emails.length - users.length} people to enrol are missing`);
    if (kind === 'totp') {
      const totp = createTotp({ prisma: db.prisma, sealer: createSealer(config.secretsEncryptionKey, config.previousSecretsEncryptionKey), issuerName: config.brandName });
      const secrets: Record<string, string> = {};
      for (const user of users) {
        // Confirmed with the previous step's code, so that the sign-in's code (this step or a
        // later one) is one the server has not seen; again if a step boundary fell in between.
        for (let attempt = 1; !secrets[user.email]; attempt++) {
          const enrolment = await totp.begin(user);
          if (!enrolment) throw new Error(`bench: ${user.email} already has an authenticator app`);
          const code = new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate({ timestamp: Date.now() - 30_000 });
          if (await totp.confirm(user.id, code)) secrets[user.email] = enrolment.secret;
          else if (attempt === 3) throw new Error(`bench: could not confirm ${user.email}'s authenticator app`);
        }
      }
      return { kind, secrets };
    }
    const keys: Record<string, { id: string; privateKey: string; userHandle: string }> = {};
    for (const user of users) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
      await db.prisma.passkey.create({
        data: { id, userId: user.id, publicKey: new Uint8Array(cosePublicKey(publicKey)), counter: 0n, transports: ['internal'], deviceType: 'multiDevice', backedUp: true, name: 'Bench passkey' },
      });
      keys[user.email] = { id, privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), userHandle: Buffer.from(user.id, 'utf8').toString('base64url') };
    }
    return { kind, keys };
  } finally {
    await db.close();
  }
}
