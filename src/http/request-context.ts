// One scope per request (an AsyncLocalStorage opened by the app's first middleware), holding what
// code deep inside a request needs without being handed the Koa context: who is asking, for the
// audit trail (the request id, the address and browser, and the app when one is known), and the
// request's memo of database reads (db/request-memo.ts). Work a request leaves running after its
// answer still sees the request it came from.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Koa from 'koa';

export interface RequestContext {
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
}

interface RequestScope {
  ctx: Koa.Context;
  /** Reads answered once per request, by key (db/request-memo.ts). */
  reads: Map<string, Promise<unknown>>;
  /** What this request last wrote, by key (db/request-memo.ts). */
  writes: Map<string, string>;
  /** Writes held until the answer, by kind; absent where a request does not allow it (db/request-memo.ts). */
  deferred?: Map<string, { items: Map<string, unknown>; flush(items: unknown[]): Promise<void>; writing?: Promise<void> }>;
}

const scope = new AsyncLocalStorage<RequestScope>();

export const requestScope: Koa.Middleware = (ctx, next) => scope.run({ ctx, reads: new Map(), writes: new Map() }, next);

/** The current request's scope, or undefined outside any request (the CLI, background jobs). */
export const currentScope = (): RequestScope | undefined => scope.getStore();

/** The app a request is for: the sign-in's (hosted pages) or the authenticated client's (protocol). */
export function clientIdOf(ctx: Koa.Context): string | null {
  const state = ctx.state as { interaction?: { details?: { params?: { client_id?: unknown } } } };
  const fromInteraction = state.interaction?.details?.params?.client_id;
  if (typeof fromInteraction === 'string') return fromInteraction;
  return (ctx as { oidc?: { client?: { clientId?: string } } }).oidc?.client?.clientId ?? null;
}

/** The current request as read now, or undefined outside any request (the CLI, background jobs). */
export function currentRequest(): RequestContext | undefined {
  const ctx = scope.getStore()?.ctx;
  if (!ctx) return undefined;
  return {
    requestId: typeof ctx.state.requestId === 'string' ? ctx.state.requestId : null,
    ip: ctx.ip || null,
    userAgent: ctx.get('user-agent').slice(0, 512) || null,
    clientId: clientIdOf(ctx),
  };
}
