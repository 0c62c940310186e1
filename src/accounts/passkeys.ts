// Passkeys (WebAuthn credentials) through @simplewebauthn/server. An account may have several.
// A passkey signs in on its own (discoverable, user verified: amr hwk for a security key, swk for
// a synced passkey) or is a second factor after a password or Google (user verification
// preferred: the first factor already said who). The relying-party id and origin are the ISSUER's.
//
// Guarantees:
// - Every challenge is ours, drawn into the page with its options and stored nowhere until a
//   response is verified; then it is spent (webauthn-challenges.ts): checked for its tag,
//   purpose, account, sign-in and expiry, and accepted once: a replay fails. A page drawn writes
//   nothing; a passkey used writes its challenge once.
// - The signature counter only goes up: a response whose counter does not exceed the stored one
//   (unless both are 0, as synced passkeys report) is refused, in the same conditional UPDATE that
//   records the use, so two racing uses of one assertion cannot both pass.
// - A disabled account never signs in. Sign-in outcomes are audited by the sign-in service
//   (accounts/sign-in.ts): a refusal here is `null`, with the reason in the debug log only.
import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Config } from '../config.ts';
import type { Prisma } from '../db/database.ts';
import type { AuditTrail } from '../audit/trail.ts';
import type { PurposeKey } from '../oidc/secrets.ts';
import { userActor } from '../audit/trail.ts';
import type { User } from './users.ts';
import { CEREMONY_SECONDS, challengeOf, createWebauthnChallenges } from './webauthn-challenges.ts';

export type { AuthenticationResponseJSON, RegistrationResponseJSON };
export type PasskeyAmr = 'hwk' | 'swk';

export const PASSKEY_NAME_MAX = 64;

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  deviceType: 'singleDevice' | 'multiDevice';
}

interface PasskeysDeps {
  prisma: Prisma;
  webauthn: Config['webauthn'];
  audit: AuditTrail;
  /** Signs and checks challenges (the server secrets' `webauthn-challenge` key); ceremonies only (not the admin CLI's list). */
  challengeKey?: PurposeKey;
  /** Why a response was refused (never the response itself). */
  onRefused?: (reason: string) => void;
}

/** The user handle the authenticator keeps and returns: the account id, as UTF-8. */
export const userHandleOf = (userId: string) => Buffer.from(userId, 'utf8').toString('base64url');
export const amrOf = (deviceType: string): PasskeyAmr => (deviceType === 'multiDevice' ? 'swk' : 'hwk');
// The library's messages quote what it received (a challenge among them): never logged.
const reasonOf = (error: unknown) => String((error as Error)?.message).replace(/"[^"]*"/g, '"…"').slice(0, 200);
const withoutCeremonies: PurposeKey = {
  sign: () => {
    throw new Error('passkey ceremonies need the challenge key');
  },
  verify: () => false,
};
const cleanName = (name: string) => name.replace(/\s+/g, ' ').trim().slice(0, PASSKEY_NAME_MAX);

export function createPasskeys({ prisma, webauthn, audit, challengeKey, onRefused = () => {} }: PasskeysDeps) {
  const expected = { expectedOrigin: webauthn.origin, expectedRPID: webauthn.rpId };

  const challenges = createWebauthnChallenges({ prisma, key: challengeKey ?? withoutCeremonies, onRefused });

  const credentialsOf = (userId: string) => prisma.passkey.findMany({ where: { userId }, select: { id: true, transports: true }, orderBy: { createdAt: 'asc' } });

  /**
   * Removes the passkey unless it is the account's last way to sign in (no password, no linked
   * account, no other passkey). The account's row is locked meanwhile, so two removals at once
   * cannot each leave the other as the last one.
   */
  const removeUnlessLast = async (userId: string, id: string, { allowLast = false } = {}): Promise<{ kind: 'removed'; name: string } | { kind: 'last-way-in' | 'not-found' }> => {
    const outcome = await prisma.$transaction(async (tx) => {
      const [owner] = await tx.$queryRaw<{ other_way: boolean }[]>`
        SELECT password_hash IS NOT NULL
               OR EXISTS (SELECT FROM federated_identities WHERE user_id = ${userId})
               OR EXISTS (SELECT FROM passkeys WHERE user_id = ${userId} AND id <> ${id}) AS other_way
        FROM users WHERE id = ${userId} FOR UPDATE`;
      if (!owner) return { kind: 'not-found' as const };
      if (!owner.other_way && !allowLast && (await tx.passkey.count({ where: { id, userId } }))) return { kind: 'last-way-in' as const };
      const [row] = await tx.$queryRaw<{ name: string }[]>`DELETE FROM passkeys WHERE id = ${id} AND user_id = ${userId} RETURNING name`;
      return row ? { kind: 'removed' as const, name: row.name } : { kind: 'not-found' as const };
    });
    if (outcome.kind === 'removed') audit.record({ action: 'passkey.removed', target: id, userId, actor: userActor(userId), details: { name: outcome.name } });
    return outcome;
  };

  return {
    async registrationOptions(user: Pick<User, 'id' | 'email' | 'givenName' | 'familyName'>): Promise<PublicKeyCredentialCreationOptionsJSON> {
      return generateRegistrationOptions({
        rpName: webauthn.rpName,
        rpID: webauthn.rpId,
        userName: user.email,
        userID: Buffer.from(user.id, 'utf8'),
        userDisplayName: [user.givenName, user.familyName].filter(Boolean).join(' ') || user.email,
        challenge: challenges.issue({ purpose: 'register', userId: user.id }),
        timeout: CEREMONY_SECONDS * 1000,
        attestationType: 'none',
        // The same authenticator twice would be one key under two names.
        excludeCredentials: await credentialsOf(user.id),
        // Discoverable and verified, so that it can sign in on its own, without an e-mail address.
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
    },

    async register(user: Pick<User, 'id'>, response: RegistrationResponseJSON, name: string): Promise<{ id: string; name: string } | null> {
      const challenge = challengeOf(response);
      const checked = challenge ? challenges.check(challenge, { purpose: 'register', userId: user.id }) : null;
      if (!checked) return null;
      const verification = await verifyRegistrationResponse({ response, expectedChallenge: checked.challenge, ...expected, requireUserVerification: true }).catch((error: unknown) => {
        onRefused(`registration: ${reasonOf(error)}`);
        return { verified: false as const };
      });
      if (!verification.verified || !(await challenges.spend(checked))) return null;
      const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
      const passkey = {
        id: credential.id,
        userId: user.id,
        publicKey: Buffer.from(credential.publicKey),
        counter: BigInt(credential.counter),
        transports: credential.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        name: cleanName(name) || 'Passkey',
      };
      try {
        await prisma.passkey.create({ data: passkey });
      } catch (error) {
        // Already registered (to this account or another): excludeCredentials was bypassed.
        if ((error as { code?: string }).code === 'P2002') return onRefused('credential already registered'), null;
        throw error;
      }
      audit.record({ action: 'passkey.added', target: passkey.id, userId: user.id, actor: userActor(user.id), details: { name: passkey.name, deviceType: passkey.deviceType } });
      return { id: passkey.id, name: passkey.name };
    },

    /**
     * A first factor's options (no account: any discoverable passkey of this site), for the
     * login page. Built here rather than by the library's (asynchronous) generator so that the
     * login page stays synchronous and queries nothing: their shape is the library's.
     */
    signInOptions(interactionUid: string): PublicKeyCredentialRequestOptionsJSON {
      const challenge = challenges.issue({ purpose: 'sign-in', interactionUid });
      return { rpId: webauthn.rpId, challenge: Buffer.from(challenge).toString('base64url'), allowCredentials: [], timeout: CEREMONY_SECONDS * 1000, userVerification: 'required' };
    },

    /** A second factor's options: the account's passkeys, for its second-factor page. */
    async secondFactorOptions(userId: string, interactionUid: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      return generateAuthenticationOptions({
        rpID: webauthn.rpId,
        challenge: challenges.issue({ purpose: 'second-factor', userId, interactionUid }),
        timeout: CEREMONY_SECONDS * 1000,
        allowCredentials: await credentialsOf(userId),
        userVerification: 'preferred',
      });
    },

    /** Who this response proves to be, and how (`hwk`/`swk`); null when refused. */
    async authenticate(response: AuthenticationResponseJSON, { userId, interactionUid }: { userId?: string; interactionUid?: string } = {}): Promise<{ userId: string; amr: PasskeyAmr } | null> {
      const challenge = challengeOf(response);
      const checked = challenge ? challenges.check(challenge, { purpose: userId ? 'second-factor' : 'sign-in', userId, interactionUid }) : null;
      if (!checked) return null;
      const id = typeof response.id === 'string' ? response.id : '';
      const stored = id ? await prisma.passkey.findUnique({ where: { id }, include: { user: { select: { disabledAt: true } } } }) : null;
      const refuse = (reason: string) => (onRefused(reason), null);
      if (!stored) return refuse('unknown credential');
      if (stored.user.disabledAt) return refuse('account disabled');
      if (userId && stored.userId !== userId) return refuse('credential of another account');
      const handle = response.response?.userHandle;
      if (handle && handle !== userHandleOf(stored.userId)) return refuse('user handle does not match the credential');
      const verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: checked.challenge,
        ...expected,
        credential: { id: stored.id, publicKey: new Uint8Array(stored.publicKey), counter: Number(stored.counter), transports: stored.transports },
        requireUserVerification: !userId,
      }).catch((error: unknown) => refuse(`authentication: ${reasonOf(error)}`));
      if (!verification) return null;
      if (!verification.verified) return refuse('signature not verified');
      if (!(await challenges.spend(checked))) return null;
      const { newCounter, credentialDeviceType, credentialBackedUp } = verification.authenticationInfo;
      const used = await prisma.$executeRaw`
        UPDATE passkeys SET counter = ${BigInt(newCounter)}, backed_up = ${credentialBackedUp}, last_used_at = now()
        WHERE id = ${stored.id} AND (counter < ${BigInt(newCounter)} OR (counter = 0 AND ${BigInt(newCounter)} = 0))`;
      if (!used) return refuse('signature counter did not increase');
      return { userId: stored.userId, amr: amrOf(credentialDeviceType) };
    },

    async list(userId: string): Promise<PasskeyView[]> {
      const rows = await prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' }, select: { id: true, name: true, createdAt: true, lastUsedAt: true, deviceType: true } });
      return rows.map((row) => ({ ...row, deviceType: row.deviceType === 'multiDevice' ? 'multiDevice' : 'singleDevice' }));
    },

    async rename(userId: string, id: string, name: string): Promise<boolean> {
      const cleaned = cleanName(name);
      if (!cleaned) return false;
      const { count } = await prisma.passkey.updateMany({ where: { id, userId }, data: { name: cleaned } });
      if (count) audit.record({ action: 'passkey.renamed', target: id, userId, actor: userActor(userId), details: { name: cleaned } });
      return count > 0;
    },

    async remove(userId: string, id: string): Promise<boolean> {
      return (await removeUnlessLast(userId, id, { allowLast: true })).kind === 'removed';
    },

    removeUnlessLast,

    count: (userId: string) => prisma.passkey.count({ where: { userId } }),

    /** Every passkey of the account (an admin's reset: the caller audits it). */
    async removeAll(userId: string): Promise<number> {
      const { count } = await prisma.passkey.deleteMany({ where: { userId } });
      return count;
    },

    deleteExpiredChallenges: () => challenges.deleteExpired(),
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;
