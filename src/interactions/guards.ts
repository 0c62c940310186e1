// The checks every interaction route makes before its handler, as middleware, so that a route
// reads as a table: method, path, the step it belongs to, the form it takes, the handler.
//   load                  the interaction (interaction.ts) on ctx.state.interaction
//   csrf                  the form's CSRF token (http/csrf.ts)
//   requirePrompt(name)   the provider waits for this step; otherwise back to the one it waits for
//   form(schema)          the body through a zod schema, typed on ctx.state.form
//   query(schema)         the query string likewise, on ctx.state.query
// Bodies were parsed, and their characters checked, at the edge (http/request-parameters.ts).
import type Koa from 'koa';
import { z } from 'zod';
import type { Csrf } from '../http/csrf.ts';
import { AppError } from '../http/errors.ts';
import type { InteractionState } from './interaction.ts';
import { showCurrentStep } from './interaction.ts';

/** A form field as text: missing or repeated is empty, as a browser never sends either. */
export const text = z.string().catch('');

export type StepName = 'login' | 'verify_email' | 'profile' | 'consent';

/** What the routes of a sign-in have: its interaction (loadInteraction). */
export interface StepState {
  interaction: InteractionState;
}

/** What drawing a step's page needs: the interaction, the language. */
export type StepPage = Koa.ParameterizedContext<Koa.DefaultState & StepState>;
/** What a step's handler reads: the interaction, and the form or query its route validated. */
export type StepContext<Form = unknown, Query = unknown> = PageContext<Form, Query> & Koa.ParameterizedContext<StepState>;
/** What a page that need not belong to a sign-in reads (the pages behind e-mailed links, "forgot"). */
export type PageContext<Form = unknown, Query = unknown> = Koa.ParameterizedContext<Koa.DefaultState & Partial<StepState> & { form: Form; query: Query }> & {
  params: Record<string, string>;
};

const bodyOf = (ctx: { request: Koa.Request }) => ctx.request.body ?? {};

export function verifyCsrf(csrf: Csrf): Koa.Middleware {
  return async (ctx, next) => {
    csrf.verify(ctx, bodyOf(ctx).csrf);
    await next();
  };
}

/** A form for another step than the one the provider waits for does nothing: that step is shown. */
export function requirePrompt(...names: StepName[]): Koa.Middleware<StepState> {
  return async (ctx, next) => {
    if (!(names as string[]).includes(ctx.state.interaction.details.prompt.name)) return showCurrentStep(ctx);
    await next();
  };
}

const refused = (what: string, error: z.ZodError) => new AppError('bad_request', `${what} refused: ${error.issues.map((issue) => issue.path.join('.')).join(', ')}`);

/**
 * The body through `schema`. A body it refuses is a bad request, unless the route says how its
 * page answers one (the login form shows itself again with a message).
 */
export function form<S extends z.ZodType, Base extends object = object>(schema: S, invalid?: (ctx: Koa.ParameterizedContext<Base>) => unknown): Koa.Middleware<Base & { form: z.infer<S> }> {
  return async (ctx, next) => {
    const parsed = schema.safeParse(bodyOf(ctx));
    if (!parsed.success) {
      if (!invalid) throw refused('form', parsed.error);
      await invalid(ctx);
      return;
    }
    ctx.state.form = parsed.data;
    await next();
  };
}

export function query<S extends z.ZodType>(schema: S): Koa.Middleware<{ query: z.infer<S> }> {
  return async (ctx, next) => {
    const parsed = schema.safeParse(ctx.query);
    if (!parsed.success) throw refused('query', parsed.error);
    ctx.state.query = parsed.data;
    await next();
  };
}
