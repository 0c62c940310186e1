// Upstream identity providers behind one small interface (after Dex's CallbackConnector): send
// the browser there, handle its answer, return one normalised Identity. A new upstream is one
// module and one line in index.ts; what happens to the identity is decided in
// accounts/federated-accounts.ts, the same for every upstream.
import type Koa from 'koa';

export interface Identity {
  /** The connector's id, e.g. "google". */
  provider: string;
  /** The upstream's stable identifier for the person (never the e-mail address). */
  subject: string;
  email?: string;
  /** Whether the upstream says it has verified `email`. */
  emailVerified: boolean;
  givenName?: string;
  familyName?: string;
  picture?: string;
  /** Google Workspace domain (`hd`), when the account belongs to one. */
  hostedDomain?: string;
}

/** Why an upstream sign-in ended without an identity. */
export type UpstreamProblem = 'cancelled' | 'failed';

export class UpstreamError extends Error {
  readonly problem: UpstreamProblem;

  constructor(problem: UpstreamProblem, detail: string) {
    super(detail);
    this.name = 'UpstreamError';
    this.problem = problem;
  }
}

export interface CallbackConnector {
  readonly id: string;
  /** The name people see ("Continue with Google"). */
  readonly displayName: string;
  /** Workspace domains allowed to sign in through this connector (empty: any). */
  readonly allowedDomains: readonly string[];
  /** The URL to send the browser to, for the sign-in `uid`. */
  begin(ctx: Koa.Context, uid: string): Promise<string>;
  /** Handles the upstream's answer (back under /interaction/:uid); throws UpstreamError. */
  complete(ctx: Koa.Context, uid: string): Promise<Identity>;
}
