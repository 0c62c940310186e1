// Reads repeated within one HTTP request are answered once: oidc-provider looks up the same
// interaction, session or account several times while handling a single request, and each
// lookup is a database round trip. The memo lives exactly as long as the request (the request's
// scope, http/request-context.ts); writes forget what they change. It also remembers what the
// request last wrote, so that saving the same thing again (oidc-provider saves an interaction or
// a session several times in one request) can be skipped; and, where the request allows it, it
// holds writes nobody else can read yet (tokens just minted) until the answer, to make them in
// one statement.
import type Koa from 'koa';
import { currentScope } from '../http/request-context.ts';

/**
 * `load()`'s answer, shared by every call with the same key during the current request. Each
 * caller gets its own `copy` of it, since callers may change what they were given (a value
 * nobody can change, text and dates, needs none).
 */
export async function memoized<T>(key: string, load: () => Promise<T>, copy: (value: T) => T = structuredClone): Promise<T> {
  const memo = currentScope()?.reads;
  if (!memo) return load();
  let pending = memo.get(key) as Promise<T> | undefined;
  if (!pending) {
    pending = load();
    memo.set(key, pending);
    pending.catch(() => memo.delete(key));
  }
  return copy(await pending);
}

/** Records what a read made in passing found under `key` (a row fetched with another one). */
export function remember(key: string, value: unknown): void {
  currentScope()?.reads.set(key, Promise.resolve(value));
}

/** Forgets one key, or every key starting with `prefix*`. */
export function forget(key: string): void {
  const scope = currentScope();
  if (!scope) return;
  if (!key.endsWith('*')) {
    scope.reads.delete(key);
    scope.writes.delete(key);
    return;
  }
  const prefix = key.slice(0, -1);
  for (const map of [scope.reads, scope.writes]) for (const existing of map.keys()) if (existing.startsWith(prefix)) map.delete(existing);
}

/** Whether the latest write of this request under `key` was exactly `version`. */
export const unchanged = (key: string, version: string): boolean => currentScope()?.writes.get(key) === version;

/** Records a write that succeeded, for unchanged(). */
export function written(key: string, version: string): void {
  currentScope()?.writes.set(key, version);
}

/** What this request last read or wrote under `key` (undefined when it has not). */
export async function lastRead(key: string): Promise<unknown> {
  return currentScope()?.reads.get(key)?.catch(() => undefined);
}

/** Whether this request read or wrote `key`. */
export function seen(key: string): boolean {
  const scope = currentScope();
  return !!scope && (scope.reads.has(key) || scope.writes.has(key));
}

/**
 * Holds `item` under `key` until the request is answered (a later item under the same key
 * replaces it), then `flush` gets them all at once. False, and nothing held, where the request
 * does not allow it: the caller writes at once.
 */
export function deferUntilAnswer<T>(kind: string, key: string, item: T, flush: (items: T[]) => Promise<void>): boolean {
  const deferred = currentScope()?.deferred;
  if (!deferred) return false;
  let held = deferred.get(kind);
  if (!held) deferred.set(kind, (held = { items: new Map(), flush: flush as (items: unknown[]) => Promise<void> }));
  held.items.set(key, item);
  return true;
}

/** Whether this request holds, under `key`, an item `matches` accepts. */
export function isHeld<T>(kind: string, key: string, matches: (item: T) => boolean): boolean {
  const item = currentScope()?.deferred?.get(kind)?.items.get(key);
  return item !== undefined && matches(item as T);
}

/**
 * Makes the writes held so far (before anything else touches the same rows). A call made while
 * another one is writing waits for it: what it reads next is written.
 */
export async function settleDeferred(): Promise<void> {
  const deferred = currentScope()?.deferred;
  if (!deferred) return;
  do {
    for (const held of deferred.values()) {
      if (held.items.size) {
        const items = [...held.items.values()];
        held.items.clear();
        held.writing = (held.writing ?? Promise.resolve()).then(() => held.flush(items));
      }
      await held.writing;
    }
    // Held meanwhile, by work running beside this: made too.
  } while ([...deferred.values()].some((held) => held.items.size));
}

/**
 * Lets the request hold writes until its answer, and makes them before the answer leaves. If they
 * cannot be made, the error is the answer (the error pages' or protocolErrors'), never the
 * redirect the request had prepared; if the request fails, what it held is not written.
 */
export const writeBeforeAnswer: Koa.Middleware = async (ctx, next) => {
  const scope = currentScope();
  if (scope) scope.deferred = new Map();
  try {
    await next();
    await settleDeferred();
  } catch (error) {
    ctx.remove('Location');
    throw error;
  } finally {
    // Work the request leaves running after its answer writes at once.
    if (scope) scope.deferred = undefined;
  }
};
