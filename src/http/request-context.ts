// Who is asking, for records made deep inside a request (the audit trail): the request id, the
// address and browser, and the app when one is known. One middleware opens the scope (an
// AsyncLocalStorage) for each request, so services record without being handed the Koa context;
// work a request leaves running after its answer still sees the request it came from.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Koa from 'koa';

export interface RequestContext {
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
}

const scope = new AsyncLocalStorage<Koa.Context>();

export const requestContextScope: Koa.Middleware = (ctx, next) => scope.run(ctx, next);

/** The app a request is for: the sign-in's (hosted pages) or the authenticated client's (protocol). */
function clientIdOf(ctx: Koa.Context): string | null {
  const state = ctx.state as { interaction?: { details?: { params?: { client_id?: unknown } } } };
  const fromInteraction = state.interaction?.details?.params?.client_id;
  if (typeof fromInteraction === 'string') return fromInteraction;
  return (ctx as { oidc?: { client?: { clientId?: string } } }).oidc?.client?.clientId ?? null;
}

/** The current request as read now, or undefined outside any request (the CLI, background jobs). */
export function currentRequest(): RequestContext | undefined {
  const ctx = scope.getStore();
  if (!ctx) return undefined;
  return {
    requestId: typeof ctx.state.requestId === 'string' ? ctx.state.requestId : null,
    ip: ctx.ip || null,
    userAgent: ctx.get('user-agent').slice(0, 512) || null,
    clientId: clientIdOf(ctx),
  };
}
