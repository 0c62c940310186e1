// The edge's first check: every parameter a request carries (path, query string, form body) is
// text a database can store, before any route or oidc-provider sees it. PostgreSQL refuses NUL
// in text and jsonb (22021, 22P05) and btree keys have a size limit, so a NUL in a client_id, a
// code or a login_hint would otherwise surface as a 500 with a stack. Refused here instead:
// bytes that are not UTF-8 (a bad percent-escape), control characters (tab, CR and LF only in
// the JSON-valued parameters), values over 8 KiB, more than 100 parameters, a body over
// oidc-provider's own 56 KiB. Protocol endpoints answer as OAuth does (400 invalid_request in
// JSON); pages, /auth and /session/end included (their redirect_uri is not checked yet), a 400
// page.
//
// This is also the one parser of form bodies: it reads the urlencoded body once and leaves it on
// ctx.request.body, where our routes read it and where oidc-provider takes an already parsed
// body (lib/shared/selective_body.js: it warns once, "already parsed request body detected").
import type Koa from 'koa';
import type { Logger } from '../log.ts';
import type { Views } from './views.ts';
import { PROTOCOL_ENDPOINTS } from './protocol-endpoints.ts';

const MAX_VALUE_LENGTH = 8192;
const MAX_NAME_LENGTH = 128;
const MAX_PARAMETERS = 100;
const MAX_PATH_LENGTH = 2048;
/** oidc-provider's own limit on bodies (lib/shared/selective_body.js). */
export const MAX_BODY_BYTES = 56 * 1024;

/** JSON in a parameter may be pretty-printed (OIDC Core §5.5 `claims`, RFC 9396 `authorization_details`). */
const JSON_PARAMETERS = new Set(['claims', 'authorization_details']);
// C0, DEL and C1 controls; JSON's own whitespace (tab, LF, CR) is allowed in the JSON parameters.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_BUT_JSON_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// Named in error descriptions only when plain (never echo what was refused).
const PLAIN_NAME = /^[\w.\-[\]]{1,64}$/;

/** Pages that oidc-provider renders: the relying app's request is refused as a bad request. */
const PROTOCOL_PAGES = new Set(['/auth', '/session/end', '/session/end/confirm', '/session/end/success']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Percent-decoded text, or undefined when an escape is malformed or its bytes are not UTF-8. */
function decode(encoded: string, plusIsSpace: boolean): string | undefined {
  try {
    return decodeURIComponent(plusIsSpace ? encoded.replaceAll('+', ' ') : encoded);
  } catch {
    return undefined;
  }
}

function problemInValue(name: string, value: string | undefined): string | undefined {
  const named = PLAIN_NAME.test(name) ? `parameter ${name}` : 'a parameter';
  if (value === undefined) return `${named} is not percent-encoded UTF-8`;
  if ((JSON_PARAMETERS.has(name) ? CONTROL_BUT_JSON_WHITESPACE : CONTROL).test(value)) return `${named} contains a control character`;
  if (value.length > MAX_VALUE_LENGTH) return `${named} is longer than ${MAX_VALUE_LENGTH} characters`;
  return undefined;
}

type Parameters = Record<string, string | string[]>;

/**
 * The parameters of an application/x-www-form-urlencoded string (a query or a body), as
 * querystring.parse gives them (a repeated name: an array), or what is wrong with it: each pair
 * is decoded once, checked and kept in the same pass.
 */
export function parseParameters(encoded: string): { values: Parameters; problem?: undefined } | { values?: undefined; problem: string } {
  const pairs = encoded.split('&').filter(Boolean);
  if (pairs.length > MAX_PARAMETERS) return { problem: `more than ${MAX_PARAMETERS} parameters` };
  const values: Parameters = Object.create(null);
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = decode(at === -1 ? pair : pair.slice(0, at), true);
    if (name === undefined || CONTROL.test(name) || name.length > MAX_NAME_LENGTH) return { problem: 'a parameter name is not plain text' };
    const value = at === -1 ? '' : decode(pair.slice(at + 1), true);
    const problem = problemInValue(name, value);
    if (problem) return { problem };
    const earlier = values[name];
    values[name] = earlier === undefined ? value! : Array.isArray(earlier) ? [...earlier, value!] : [earlier, value!];
  }
  return { values };
}

/** What is wrong with a request path (router parameters are decoded from it), if anything. */
export function problemInPath(path: string): string | undefined {
  // Nothing escaped (most requests): the path is its own decoding.
  const decoded = path.includes('%') ? decode(path, false) : path;
  if (decoded === undefined) return 'the path is not percent-encoded UTF-8';
  if (CONTROL.test(decoded)) return 'the path contains a control character';
  if (path.length > MAX_PATH_LENGTH) return `the path is longer than ${MAX_PATH_LENGTH} characters`;
  return undefined;
}

class ParameterProblem extends Error {}

async function readBody(ctx: Koa.Context): Promise<string> {
  if (ctx.request.length !== undefined && ctx.request.length > MAX_BODY_BYTES) throw new ParameterProblem(`the body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of ctx.req) {
      received += (chunk as Buffer).length;
      if (received > MAX_BODY_BYTES) throw new ParameterProblem(`the body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof ParameterProblem) throw error;
    throw new ParameterProblem('the body could not be read');
  }
  try {
    return utf8.decode(Buffer.concat(chunks, received));
  } catch {
    throw new ParameterProblem('the body is not UTF-8');
  }
}

function refuse(ctx: Koa.Context, { views, log }: { views: Views; log: Logger }, problem: string) {
  log.info({ requestId: ctx.state.requestId, path: ctx.path, problem }, 'malformed request refused');
  const out = { error: 'invalid_request', error_description: problem };
  ctx.set('Cache-Control', 'no-store');
  if (PROTOCOL_ENDPOINTS.has(ctx.path) || ctx.path.startsWith('/api/')) {
    // The endpoints apps call answer JSON (http/protocol-endpoints.ts); so does Sésame's own API.
    ctx.status = 400;
    ctx.body = out;
    return;
  }
  const protocol = PROTOCOL_PAGES.has(ctx.path);
  views.render(
    ctx,
    'error',
    { message: ctx.state.t(protocol ? 'error.request' : 'error.generic'), details: protocol ? { error: out.error, description: problem } : undefined, requestId: ctx.state.requestId },
    400,
  );
}

export function checkRequestParameters(deps: { views: Views; log: Logger }): Koa.Middleware {
  const checkBody = async (ctx: Koa.Context, next: Koa.Next) => {
    let problem: string | undefined;
    try {
      const parsed = parseParameters(await readBody(ctx));
      problem = parsed.problem;
      if (parsed.values) ctx.request.body = parsed.values;
    } catch (error) {
      if (!(error instanceof ParameterProblem)) throw error;
      problem = error.message;
    }
    if (problem) return refuse(ctx, deps, problem);
    await next();
  };
  return (ctx, next) => {
    const problem = problemInPath(ctx.path) ?? (ctx.querystring ? parseParameters(ctx.querystring).problem : undefined);
    if (problem) return refuse(ctx, deps, problem);
    if (ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) return checkBody(ctx, next);
    return next();
  };
}
