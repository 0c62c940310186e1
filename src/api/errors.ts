// The API's errors in the OAuth wire shape (`{ error, error_description }`), with RFC 6750's
// WWW-Authenticate challenge on 401 and 403. Every /api response is private and never cached.
import type Koa from 'koa';
import type { Logger } from '../log.ts';

export type ApiErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'not_found' | 'server_error';

const STATUS: Record<ApiErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  not_found: 404,
  server_error: 500,
};

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  /** The scope a 403 asks for (RFC 6750 §3). */
  readonly scope?: string;

  constructor(code: ApiErrorCode, description: string, { scope }: { scope?: string } = {}) {
    super(description);
    this.name = 'ApiError';
    this.code = code;
    this.status = STATUS[code];
    if (scope) this.scope = scope;
  }
}

/** RFC 6750 §3: no error code in the challenge when the request carried no token at all. */
export class MissingTokenError extends ApiError {
  constructor() {
    super('invalid_token', 'a bearer access token is required in the Authorization header');
  }
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

function challenge(realm: string, error: ApiError): string {
  const params = [`realm=${quoted(realm)}`];
  if (!(error instanceof MissingTokenError)) params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.message)}`);
  if (error.scope) params.push(`scope=${quoted(error.scope)}`);
  return `Bearer ${params.join(', ')}`;
}

/** Renders every error under it as JSON; a failure we did not expect is logged and hidden. */
export function apiErrors(log: Logger, realm: string): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (thrown) {
      const error = thrown instanceof ApiError ? thrown : new ApiError('server_error', 'the request could not be handled');
      if (error !== thrown) log.error({ err: thrown, requestId: ctx.state.requestId, path: ctx.path }, 'api request failed');
      if (error.status === 401 || error.status === 403) ctx.set('WWW-Authenticate', challenge(realm, error));
      ctx.status = error.status;
      ctx.body = { error: error.code, error_description: error.message };
    }
  };
}
