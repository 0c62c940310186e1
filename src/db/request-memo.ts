// Reads repeated within one HTTP request are answered once: oidc-provider looks up the same
// interaction, session or account several times while handling a single request, and each
// lookup is a database round trip. The memo lives exactly as long as the request (an
// AsyncLocalStorage scope opened by the first middleware); writes forget what they change.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Koa from 'koa';

const scope = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

export const requestMemoScope: Koa.Middleware = (_ctx, next) => scope.run(new Map(), next);

/** `load()`'s answer, shared by every call with the same key during the current request. */
export async function memoized<T>(key: string, load: () => Promise<T>): Promise<T> {
  const memo = scope.getStore();
  if (!memo) return load();
  let pending = memo.get(key) as Promise<T> | undefined;
  if (!pending) {
    pending = load();
    memo.set(key, pending);
    pending.catch(() => memo.delete(key));
  }
  // Each caller gets its own copy: callers may change what they were given.
  return structuredClone(await pending);
}

/** Forgets one key, or every key starting with `prefix*`. */
export function forget(key: string): void {
  const memo = scope.getStore();
  if (!memo) return;
  if (!key.endsWith('*')) {
    memo.delete(key);
    return;
  }
  for (const existing of memo.keys()) if (existing.startsWith(key.slice(0, -1))) memo.delete(existing);
}
