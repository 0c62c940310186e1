// Discovery and the JWKS change only when the provider is rebuilt (new keys, oidc/host.ts), yet
// relying apps and APIs fetch them all the time. The first plain GET after a rebuild goes the whole
// way (the provider, every header middleware); its answer is kept and replayed to the next plain
// GETs until the provider changes. "Plain": no query string (the parameter check stays in front of
// anything unusual) and no Origin (CORS answers depend on it), which is how servers fetch them.
import type Koa from 'koa';

const CACHED_PATHS: ReadonlySet<string> = new Set(['/.well-known/openid-configuration', '/jwks']);
/** Headers that belong to one answer, never replayed. */
const PER_ANSWER = new Set(['x-request-id', 'date', 'content-length', 'set-cookie']);

interface Answer {
  readonly source: object;
  /** Content-Type included: set before the body, Koa keeps it. */
  readonly headers: [string, string | string[]][];
  readonly body: string;
}

/** `current()` names what the answers derive from (the provider): when it changes, they are forgotten. */
export function staticAnswers(current: () => object): Koa.Middleware {
  const answers = new Map<string, Answer>();
  const answer = async (ctx: Koa.Context, next: Koa.Next) => {
    // The issuer's URLs depend on the scheme a proxy reports.
    const key = `${ctx.protocol} ${ctx.path}`;
    const source = current();
    const kept = answers.get(key);
    if (kept?.source === source) {
      for (const [name, value] of kept.headers) ctx.set(name, value);
      ctx.body = kept.body;
      return;
    }
    await next();
    if (ctx.status !== 200 || ctx.method !== 'GET' || typeof ctx.body !== 'object' || ctx.body === null || Buffer.isBuffer(ctx.body)) return;
    const headers = Object.entries(ctx.response.headers).filter(([name]) => !PER_ANSWER.has(name.toLowerCase())) as [string, string | string[]][];
    answers.set(key, { source, headers, body: JSON.stringify(ctx.body) });
  };
  // Not async: every other request passes straight through, without a promise of its own.
  return (ctx, next) =>
    CACHED_PATHS.has(ctx.path) && (ctx.method === 'GET' || ctx.method === 'HEAD') && !ctx.querystring && !ctx.get('origin') ? answer(ctx, next) : next();
}
