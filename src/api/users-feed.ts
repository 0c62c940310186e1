/*
 * The users feed: what relying apps' back ends read to keep their copy of the accounts in step
 * (the pattern of Clerk's getUserList, made incremental).
 *
 *   GET /api/v1/users?since=<cursor>&limit=<1..500>   changes after the cursor, oldest first
 *   GET /api/v1/users/:sub                            one account now (fetch-on-read)
 *
 * Callers are apps with a client-credentials access token carrying `users:read` (bearer.ts).
 * A page is `{ data, next_cursor, has_more }`: `data` holds accounts (user-view.ts) and removed
 * accounts' tombstones (`"deleted": true`), ordered by last change; `next_cursor` is the position
 * of the last row given (the `since` given back when the page is empty, null from an empty
 * start), to store and come back with for what changed since. An account that changes again
 * moves to the end of the feed. Guarantees and the settle delay: src/accounts/user-changes.ts.
 */
import type Router from '@koa/router';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { UserChanges } from '../accounts/user-changes.ts';
import type { BearerDeps } from './bearer.ts';
import { requireClientScope } from './bearer.ts';
import { ApiError, apiErrors } from './errors.ts';
import { decodeCursor, encodeCursor } from './feed-cursor.ts';
import type { SesameApiScope } from '../oidc/scopes.ts';

export const USERS_READ: SesameApiScope = 'users:read';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

export interface UsersFeedDeps extends BearerDeps {
  changes: UserChanges;
  log: Logger;
  issuer: string;
}

const pageQuerySchema = z.object({
  since: z.string({ error: 'since may be given once' }).optional(),
  limit: z
    .string({ error: 'limit may be given once' })
    .regex(/^\d{1,4}$/, `limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .transform(Number)
    .refine((limit) => limit >= 1 && limit <= MAX_LIMIT, `limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .optional(),
});

const subSchema = z.string().min(1).max(200);

function pageQuery(query: unknown) {
  const single = Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([key]) => key === 'since' || key === 'limit'));
  const parsed = pageQuerySchema.safeParse(single);
  if (!parsed.success) throw new ApiError('invalid_request', parsed.error.issues[0]!.message);
  const { since, limit = DEFAULT_LIMIT } = parsed.data;
  const after = since === undefined ? undefined : decodeCursor(since);
  if (after === null) throw new ApiError('invalid_request', 'since is not a cursor this feed gave');
  return { since, after, limit };
}

export function registerUsersFeedRoutes(router: Router, deps: UsersFeedDeps): void {
  const guard = [apiErrors(deps.log, deps.issuer), requireClientScope(deps, USERS_READ)];

  router.get('/api/v1/users', ...guard, async (ctx) => {
    const { since, after, limit } = pageQuery(ctx.query);
    const { changes, hasMore } = await deps.changes.page({ after, limit });
    const last = changes.at(-1);
    ctx.body = {
      data: changes.map((change) => change.view),
      next_cursor: last ? encodeCursor(last.position) : (since ?? null),
      has_more: hasMore,
    };
  });

  router.get('/api/v1/users/:sub', ...guard, async (ctx) => {
    const sub = subSchema.safeParse(ctx.params.sub);
    const view = sub.success ? await deps.changes.find(sub.data) : null;
    if (!view) throw new ApiError('not_found', 'no account with this sub');
    if ('deleted' in view) throw new ApiError('not_found', 'this account was removed');
    ctx.body = view;
  });
}
