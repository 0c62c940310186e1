// Pages are nunjucks templates in views/, autoescaped, fed plain view models. Every page gets the
// reader's language, its translator and the company's name.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import type Koa from 'koa';
import { negotiateLocale, translator } from '../i18n/index.ts';
import type { Locale, Translate } from '../i18n/index.ts';

export const viewsDir = fileURLToPath(new URL('../../views/', import.meta.url));

export interface Views {
  readonly brand: string;
  render(ctx: Koa.Context, template: string, model: Record<string, unknown>, status?: number): void;
  /** Re-chooses the language for this request (e.g. from the relying app's ui_locales). */
  localize(ctx: Koa.Context, uiLocales?: string): void;
  /** Sets the language from Accept-Language; the first middleware of every request. */
  middleware: Koa.Middleware;
  /** Serves /assets/* (the stylesheet and the one script), read once at start-up. */
  assets: Koa.Middleware;
}

export function createViews({ brandName, cache }: { brandName: string; cache: boolean }): Views {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: !cache }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  // Each asset is read once and linked with a digest of its content, so it can be cached forever.
  const assets = new Map(
    (
      [
        ['sesame.css', 'text/css'],
        ['continue.js', 'text/javascript'],
      ] as const
    ).map(([name, type]) => {
      const body = readFileSync(new URL(`assets/${name}`, `file://${viewsDir}`));
      const version = createHash('sha256').update(body).digest('hex').slice(0, 10);
      return [`/assets/${name}`, { body, type, href: `/assets/${name}?v=${version}` }];
    }),
  );
  const href = (path: string) => assets.get(path)!.href;

  const localize = (ctx: Koa.Context, uiLocales?: string) => {
    const locale: Locale = negotiateLocale(uiLocales, ctx.get('Accept-Language'));
    ctx.state.locale = locale;
    ctx.state.t = translator(locale, { brand: brandName });
  };

  return {
    brand: brandName,
    localize,
    render(ctx, template, model, status = 200) {
      const t = ctx.state.t as Translate;
      ctx.status = status;
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Language', ctx.state.locale);
      ctx.vary('Accept-Language');
      ctx.body = env.render(`${template}.njk`, {
        ...model,
        page: { lang: ctx.state.locale, brand: brandName, stylesheet: href('/assets/sesame.css'), script: href('/assets/continue.js') },
        t,
      });
    },
    middleware: async (ctx, next) => {
      localize(ctx);
      await next();
    },
    assets: async (ctx, next) => {
      const asset = assets.get(ctx.path);
      if (!asset || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
      ctx.type = asset.type;
      ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
      ctx.body = asset.body;
    },
  };
}
