// What the benchmark's processes say to each other over their IPC channels: the parent asks the
// bare provider for codes, and gives the load generator one job at a time.
import type { Factors } from './factors.ts';

/** The bare provider's one client (confidential, every grant the flows use). */
export const BARE_CLIENT = {
  client_id: 'bench-app',
  client_secret: 'bench-app-secret-that-is-long-enough',
  redirect_uri: 'https://app.example.test/cb',
};

export interface MintRequest {
  id: number;
  count: number;
  scope: string;
  codeChallenge: string;
}

export type MintResponse = { id: number; codes: string[] } | { id: number; error: string };

interface Timed {
  connections: number;
  /** Seconds. */
  duration: number;
}

export type LoadJob =
  /** The same request over and over. */
  | ({ kind: 'fixed'; url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } & Timed)
  /** Each code redeemed once: as many requests as codes, however long they take. */
  | { kind: 'codes'; url: string; headers: Record<string, string>; codes: string[]; redirectUri: string; codeVerifier: string; connections: number }
  /** One rotation chain per connection: each request spends the refresh token the previous one got. */
  | ({ kind: 'refresh'; url: string; headers: Record<string, string>; tokens: string[] } & Timed)
  /**
   * People signing in through the pages at once, each with their own browser: with their
   * password, their password and an authenticator app's code (factors totp), or a passkey alone.
   */
  | { kind: 'sign-ins'; issuer: string; clientId: string; clientSecret: string; redirectUri: string; emails: string[]; password: string; people: number; duration: number; factors?: Factors }
  /** argon2id verifications on every core. */
  | { kind: 'argon2'; hash: string; password: string; duration: number };

export interface LoadResult {
  /** Requests answered (sign-ins finished, verifications done). */
  count: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, socket errors and timeouts. */
  errors: number;
  /** The first failure seen, to tell what went wrong. */
  firstError?: string;
}

export type LoadReply = { id: number; result: LoadResult } | { id: number; error: string };
