// Requests refused by a rate limit, in the audit trail: against the address typed in the form
// when there is one (so that `audit list --user` finds who was being guessed at), else the route.
import type Koa from 'koa';
import { emailKey } from '../accounts/users.ts';
import type { AuditTrail } from './trail.ts';

type Routed = Koa.Context & { _matchedRoute?: string };

export function recordRateLimitRefusal(audit: AuditTrail, ctx: Koa.Context, retryAfterSeconds: number, extra: { limit: string; target?: string; clientId?: string }): void {
  const body = (ctx.request as { body?: unknown }).body;
  const typed = body && typeof body === 'object' && typeof (body as { email?: unknown }).email === 'string' ? emailKey((body as { email: string }).email).slice(0, 254) : '';
  // The route's pattern, not its path: an interaction's uid stays out of the trail.
  const route = (ctx as Routed)._matchedRoute ?? ctx.path;
  audit.record({
    action: 'rate-limit.refused',
    target: extra.target ?? (typed || route),
    ...(extra.clientId ? { clientId: extra.clientId } : {}),
    details: { route, method: ctx.method, limit: extra.limit, retry_after_seconds: retryAfterSeconds },
  });
}
