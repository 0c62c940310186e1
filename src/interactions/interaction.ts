// Puts the current interaction on the context, with the client's name and the person's language.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Csrf } from '../http/csrf.ts';
import type { Views } from '../http/views.ts';
import type { UserService } from '../accounts/users.ts';
import type { SelfService } from '../accounts/self-service.ts';
import type { OneTimeTokens } from '../accounts/one-time-tokens.ts';
import type { RateLimiter } from '../http/rate-limits.ts';
import type { DeviceCookies } from '../http/device-cookies.ts';
import type { AfterResponse } from '../http/after-response.ts';
import type { Connectors } from '../federation/index.ts';
import type { PendingSeal } from '../federation/pending.ts';
import type { FederatedAccounts } from '../accounts/federated-accounts.ts';
import type { Logger } from '../log.ts';
import { ExpiredError } from '../http/errors.ts';
import { appOfInteraction } from './app-link.ts';
import type { ConsentStore } from '../accounts/consents.ts';
import type { ApiRegistry } from '../apis/registry.ts';
import type { AuditTrail } from '../audit/trail.ts';
import type { SignIn } from '../accounts/sign-in.ts';
import type { Totp } from '../accounts/totp.ts';
import type { RecoveryCodes } from '../accounts/recovery-codes.ts';
import type { Factors } from '../accounts/factors.ts';
import type { Passkeys } from '../accounts/passkeys.ts';
import type { Mailer } from '../mail/index.ts';

export interface InteractionDeps {
  provider: () => Provider;
  views: Views;
  csrf: Csrf;
  users: UserService;
  selfService: SelfService;
  tokens: OneTimeTokens;
  limits: RateLimiter;
  /** Browsers known to have signed in to an account (spared its slow-down). */
  devices: DeviceCookies;
  /** Work that starts once the answer is sent (what it must not reveal by its timing). */
  afterResponse: AfterResponse;
  connectors: Connectors;
  federated: FederatedAccounts;
  pendingLinks: PendingSeal;
  consents: ConsentStore;
  /** The APIs an app may name with `resource`: their names on the consent page. */
  apis: Pick<ApiRegistry, 'find'>;
  log: Logger;
  /** The audit trail, for what no service sees (an upstream sign-in that did not complete). */
  audit: AuditTrail;
  /** Every way in and every second factor (accounts/sign-in.ts). */
  signIn: SignIn;
  totp: Totp;
  recoveryCodes: RecoveryCodes;
  /** What second factors an account has (accounts/factors.ts). */
  factors: Factors;
  passkeys: Passkeys;
  /** MFA_REQUIRED: every sign-in needs two factors; accounts without a second enrol one. */
  mfaRequired: boolean;
  /** Notices of security changes made during a sign-in (a second factor enrolled). */
  mailer: Mailer;
  issuer: string;
}

/** The upstream sign-in buttons a page offers: one form per configured connector. */
export function upstreamButtons(deps: InteractionDeps, uid: string) {
  return [...deps.connectors.values()].map((connector) => ({ id: connector.id, action: `/interaction/${uid}/federated/${connector.id}`, name: connector.displayName }));
}

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionState {
  details: Interaction;
  provider: Provider;
  clientName: string;
}

/** A request of a sign-in, once loadInteraction has run (routes: interactions/guards.ts). */
export type WithInteraction = Koa.ParameterizedContext<{ interaction: InteractionState }>;

export function loadInteraction({ provider: current, views }: InteractionDeps): Koa.Middleware {
  return async (ctx, next) => {
    const provider = current();
    // Over, or opened in another browser (a link from an e-mail read on a phone): the page says
    // so, with a way back to the app when the sign-in is still known.
    const expired = async (detail: string) => new ExpiredError(detail, await appOfInteraction(provider, ctx.params.uid));
    const details = await provider.interactionDetails(ctx.req, ctx.res).catch(async (error: unknown) => {
      throw error instanceof errors.SessionNotFound ? await expired(error.error_description ?? error.message) : error;
    });
    if (details.uid !== ctx.params.uid) throw await expired('interaction uid mismatch');
    views.localize(ctx, details.params.ui_locales as string | undefined);
    const clientId = details.params.client_id as string;
    const client = await provider.Client.find(clientId);
    ctx.state.interaction = { details, provider, clientName: client?.clientName ?? clientId } satisfies InteractionState;
    await next();
  };
}

/**
 * Reports the step's result to the provider and follows it with a 303 (never 307: RFC 9700
 * §4.12). What provider.interactionResult() does, on the interaction loadInteraction found and
 * checked in this request: that call would read it and its session again. The resume checks
 * the session once more.
 */
export async function finishInteraction(ctx: WithInteraction, result: InteractionResults, merge = false): Promise<void> {
  const { details } = ctx.state.interaction;
  details.result = merge && !('error' in result) ? { ...details.lastSubmission, ...result } : result;
  await details.save(details.exp - Math.floor(Date.now() / 1000));
  ctx.status = 303;
  ctx.redirect(details.returnTo);
}

/** Back to the page for whatever the provider wants now. */
export function showCurrentStep(ctx: WithInteraction): void {
  ctx.status = 303;
  ctx.redirect(`/interaction/${ctx.state.interaction.details.uid}`);
}
