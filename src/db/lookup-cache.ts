// A short cache for what the provider looks up on every request (clients, APIs). Each replica
// reads a row again at most every `ttlSeconds`, so an admin's change reaches all of them within
// that time; a miss (an unknown id) is cached too. At most `limit` entries, the oldest dropped first.
export interface LookupCache<V> {
  get(key: string, load: () => Promise<V>): Promise<V>;
  delete(key: string): void;
}

export function createLookupCache<V>(ttlSeconds: number, limit = 1000): LookupCache<V> {
  const entries = new Map<string, { value: V; expires: number }>();
  return {
    async get(key, load) {
      const now = Date.now();
      const hit = entries.get(key);
      if (hit && hit.expires > now) return hit.value;
      const value = await load();
      if (ttlSeconds > 0) {
        if (entries.size >= limit) entries.delete(entries.keys().next().value!);
        entries.set(key, { value, expires: now + ttlSeconds * 1000 });
      }
      return value;
    },
    delete: (key) => entries.delete(key),
  };
}
