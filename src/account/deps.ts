// What the account page needs: everything the sign-in pages have, plus its own relying-party
// side (relying-party.ts), its cookies (app-session.ts) and the provider's rows (D's
// src/oidc/provider-rows.ts).
import type { InteractionDeps } from '../interactions/interaction.ts';
import type { PasswordHasher } from '../accounts/passwords.ts';
import type { AccountRelyingParty } from './relying-party.ts';
import type { AppSessionCookies } from './app-session.ts';
import type { ProviderRows } from '../oidc/provider-rows.ts';

/** The calls the account page makes on oidc-provider's rows. */
export type AccountRows = Pick<ProviderRows, 'sessionsOf' | 'findSession' | 'endSessions' | 'revokeRefreshTokens' | 'revokeApp'>;

export interface AccountDeps extends InteractionDeps {
  passwords: PasswordHasher;
  rows: AccountRows;
  rp: AccountRelyingParty;
  cookies: AppSessionCookies;
  /** Seconds after a sign-in within which a change needs no new sign-in (ACCOUNT_REAUTH_AGE). */
  reauthAge: number;
  /** A MaxMind city database, when set (GEOIP_DATABASE). */
  geoipDatabase?: string;
}

/** The built-in first-party client the account page signs in as. */
export const ACCOUNT_CLIENT_ID = 'sesame-account';

/** The "sign-in" uid of an upstream round trip started from the account page (linked.ts). */
export const ACCOUNT_LINK_PREFIX = 'account-link-';
