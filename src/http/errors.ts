// Our own errors carry a stable code and a status; one middleware turns any error thrown by our
// routes into a page. People see a short generic message and a reference; details go to the log.
import { errors as oidcErrors } from 'oidc-provider';
import type Koa from 'koa';
import type { Logger } from '../log.ts';
import { BusyError } from './limiter.ts';
import type { MessageKey } from '../i18n/index.ts';
import type { Views } from './views.ts';
import type { AuditTrail } from '../audit/trail.ts';
import { recordRateLimitRefusal } from '../audit/refusals.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { UNAVAILABLE_RETRY_AFTER } from './unavailable.ts';

export type AppErrorCode = 'bad_request' | 'forbidden' | 'not_found' | 'method_not_allowed' | 'busy' | 'expired' | 'too_many' | 'unavailable';

const STATUS: Record<AppErrorCode, number> = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  busy: 503,
  expired: 400,
  too_many: 429,
  unavailable: 503,
};

const MESSAGE: Record<Exclude<AppErrorCode, 'expired' | 'too_many' | 'unavailable'>, MessageKey> = {
  bad_request: 'error.generic',
  forbidden: 'error.forbidden',
  not_found: 'error.not-found',
  method_not_allowed: 'error.generic',
  busy: 'error.busy',
};

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly status: number;

  constructor(code: AppErrorCode, detail?: string) {
    super(detail ?? code);
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
  }
}

/** A sign-in that is over; `app` is the way back to the app it was for, when known. */
export class ExpiredError extends AppError {
  readonly app?: { name: string; href: string };

  constructor(detail: string, app?: { name: string; href: string }) {
    super('expired', detail);
    this.app = app;
  }
}

function classify(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof BusyError) return new AppError('busy');
  if (isDatabaseUnavailable(error)) return new AppError('unavailable', (error as Error).message);
  if (error instanceof oidcErrors.SessionNotFound) return new AppError('expired', error.error_description);
  const status = (error as { status?: number; expose?: boolean }).status;
  if (status === 404) return new AppError('not_found');
  if (status && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) return new AppError('bad_request');
  return undefined;
}

/** After "too many attempts": back to the sign-in the form belonged to, or to the form itself. */
function wayBack(ctx: Koa.Context): { href: string; text: string } | undefined {
  const uid = (ctx.state.interaction as { details?: { uid?: string } } | undefined)?.details?.uid;
  if (uid) return { href: `/interaction/${uid}`, text: ctx.state.t('inbox.back') };
  if (ctx.method === 'POST' && ctx.path.startsWith('/account/')) return { href: ctx.path, text: ctx.state.t('too-many.retry') };
  return undefined;
}

export function errorPages(log: Logger, views: Views, audit: AuditTrail): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not_found');
      // A known path asked with another method: the router has set Allow; the page is ours.
      if (ctx.status === 405 && ctx.body === undefined) throw new AppError('method_not_allowed');
    } catch (error) {
      const known = classify(error);
      const requestId = ctx.state.requestId as string;
      if (!known) log.error({ err: error, requestId, method: ctx.method, path: ctx.path }, 'request failed');
      else if (known.code === 'unavailable') log.warn({ requestId, detail: known.message, path: ctx.path }, 'database unavailable: answered 503');
      else if (known.code !== 'not_found' && known.code !== 'method_not_allowed') log.info({ requestId, code: known.code, detail: known.message, path: ctx.path }, 'request refused');
      const status = known?.status ?? 500;
      if (known?.code === 'busy') ctx.set('Retry-After', '5');
      if (known?.code === 'unavailable') {
        ctx.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER));
        views.render(ctx, 'unavailable', { requestId }, status);
      } else if (known?.code === 'expired') {
        views.render(ctx, 'expired', { app: known instanceof ExpiredError ? known.app : undefined, requestId }, status);
      } else if (known?.code === 'too_many') {
        const { retryAfterSeconds: seconds, limit } = known as AppError & { retryAfterSeconds: number; limit: string };
        ctx.set('Retry-After', String(seconds));
        recordRateLimitRefusal(audit, ctx, seconds, { limit });
        views.render(ctx, 'too-many', { minutes: ctx.state.t.count('minute', Math.max(1, Math.ceil(seconds / 60))), back: wayBack(ctx), requestId }, status);
      } else if (known?.code === 'not_found') {
        views.render(ctx, 'error', { title: ctx.state.t('error.not-found-title'), message: ctx.state.t('error.not-found'), home: true, requestId }, status);
      } else {
        views.render(ctx, 'error', { message: ctx.state.t(known ? MESSAGE[known.code as keyof typeof MESSAGE] : 'error.generic'), requestId }, status);
      }
    }
  };
}
