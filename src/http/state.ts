// What every request carries, declared once for Koa: on ctx.state the request id (app.ts), the
// language and its translator (views.ts), so that `ctx.state.t` checks its message keys; and
// the form body the edge parsed (request-parameters.ts).
// Route-specific state is typed where the routes are (interactions/guards.ts: the interaction
// and the parsed form).
import type { ParsedUrlQuery } from 'node:querystring';
import type { Locale, Translate } from '../i18n/index.ts';

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    locale: Locale;
    t: Translate;
  }
  interface Request {
    /** A urlencoded body, read and checked once at the edge (request-parameters.ts). */
    body?: ParsedUrlQuery;
  }
}
