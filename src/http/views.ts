// Pages are nunjucks templates in views/, autoescaped, fed plain view models. Every page gets the
// reader's language, its translator, the company's look (name, logo, colour, footer links) and a
// link to the same page in the other language.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import type Koa from 'koa';
import type { Config } from '../config.ts';
import { LOCALES, negotiateLocale, translator } from '../i18n/index.ts';
import type { Locale, MessageKey, Translate } from '../i18n/index.ts';
import { brandPalette } from './colors.ts';

export const viewsDir = fileURLToPath(new URL('../../views/', import.meta.url));

export interface Views {
  readonly brand: string;
  render(ctx: Koa.Context, template: string, model: Record<string, unknown>, status?: number): void;
  /**
   * Re-chooses the language for this request. The person's own choice (`?lang=`, then the
   * cookie it left) wins over the relying app's ui_locales, which wins over Accept-Language.
   */
  localize(ctx: Koa.Context, uiLocales?: string): void;
  /** Sets the language and remembers a `?lang=` choice; the first middleware of every request. */
  middleware: Koa.Middleware;
  /** Serves /assets/* (stylesheets, scripts, icons, the logo), read once at start-up. */
  assets: Koa.Middleware;
}

/** Each language, named in itself (a person looking for theirs reads it in theirs). */
const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', fr: 'Français' };
const LANGUAGE_COOKIE = 'sesame.lang';
const LANGUAGE_PATH = '/language';
const YEAR_MS = 365 * 24 * 3600 * 1000;

const isLocale = (value: unknown): value is Locale => (LOCALES as readonly unknown[]).includes(value);

interface Asset {
  body: Buffer;
  type: string;
  href: string;
}

/** An asset linked with a digest of its content, so it can be cached forever. */
function asset(name: string, type: string, body: Buffer): [string, Asset] {
  const version = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return [`/assets/${name}`, { body, type, href: `/assets/${name}?v=${version}` }];
}

const file = (name: string) => readFileSync(new URL(`assets/${name}`, `file://${viewsDir}`));

/** The company's colour as custom properties over the defaults of sesame.css, in both themes. */
function brandStylesheet(colors: NonNullable<Config['brand']['colors']>): string {
  const palette = brandPalette(colors.primary, colors.text);
  const common = `--button: ${palette.button}; --button-ink: ${palette.buttonText}; --button-hover: ${palette.buttonHover};`;
  return [
    `:root { ${common} --accent: ${palette.accent.light}; --focus: ${palette.accent.light}; }`,
    `@media (prefers-color-scheme: dark) { :root { --accent: ${palette.accent.dark}; --focus: ${palette.accent.dark}; } }`,
    '',
  ].join('\n');
}

/**
 * Where the same page is shown in another language. A page whose address carries parameters (an
 * e-mailed token, or a relying app's request: perhaps an attacker's redirect_uri on an error page)
 * never repeats them in a link: its switcher goes through /language, which sends the browser back
 * to the page it came from (that one link sends its Referer, to our own origin only). A page
 * drawn in answer to a form has no address of its own to reload: it leads to the form's page, or
 * the sign-in's current step, or the home page.
 */
function samePage(ctx: Koa.Context, locale: Locale): { href: string; referrer?: 'same-origin' } {
  const asked = ctx.method === 'GET' || ctx.method === 'HEAD';
  const query = new URLSearchParams(asked ? ctx.querystring : '');
  query.delete('lang');
  if (query.size) return { href: `${LANGUAGE_PATH}?lang=${locale}`, referrer: 'same-origin' };
  // One leading slash: `//host` (or `/\host`) in a link would lead to another site.
  let path = `/${ctx.path.replace(/^[/\\]+/, '')}`;
  if (!asked) {
    const step = /^(\/interaction\/[\w-]+)(\/(?:register|forgot))?(?:\/|$)/.exec(ctx.path);
    if (step) path = step[1]! + (step[2] ?? '');
    else if (path !== '/account/forgot') path = '/';
  }
  query.set('lang', locale);
  return { href: `${path}?${query}` };
}

/** /language?lang=…: the choice is kept (by the middleware), then back to the page on our origin it came from. */
function backWithLanguage(ctx: Koa.Context): void {
  const from = URL.canParse(ctx.get('Referer')) ? new URL(ctx.get('Referer')) : undefined;
  const back = from && from.host === ctx.host && !from.pathname.startsWith('//') ? from : new URL('/', 'http://x');
  back.searchParams.delete('lang');
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 303;
  ctx.redirect(`${back.pathname}${back.search}`);
}

export function createViews({ brandName, brand, cache }: { brandName: string; brand: Config['brand']; cache: boolean }): Views {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: !cache }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  const logo = brand.logo && 'file' in brand.logo ? asset(`logo${brand.logo.file.slice(brand.logo.file.lastIndexOf('.'))}`, brand.logo.type, readFileSync(brand.logo.file)) : undefined;
  const assets = new Map([
    asset('sesame.css', 'text/css', file('sesame.css')),
    asset('continue.js', 'text/javascript', file('continue.js')),
    asset('show-password.js', 'text/javascript', file('show-password.js')),
    asset('passkeys.js', 'text/javascript', file('passkeys.js')),
    // The browser half of @simplewebauthn, served by us (CSP script-src 'self'): its one-file build.
    asset('simplewebauthn-browser.js', 'text/javascript', readFileSync(new URL('../dist/bundle/index.umd.min.js', import.meta.resolve('@simplewebauthn/browser')))),
    asset('favicon.svg', 'image/svg+xml', file('favicon.svg')),
    asset('google.svg', 'image/svg+xml', file('google.svg')),
    ...(brand.colors ? [asset('brand.css', 'text/css', Buffer.from(brandStylesheet(brand.colors)))] : []),
    ...(logo ? [logo] : []),
  ]);
  const href = (path: string) => assets.get(path)?.href;
  const footer = (['support', 'privacy', 'terms'] as const).flatMap((name) => (brand.links[name] ? [{ name, href: brand.links[name] }] : []));
  const look = {
    brand: brandName,
    stylesheets: [href('/assets/sesame.css'), href('/assets/brand.css')].filter(Boolean),
    script: href('/assets/continue.js'),
    showPassword: href('/assets/show-password.js'),
    passkeys: [href('/assets/simplewebauthn-browser.js'), href('/assets/passkeys.js')],
    favicon: href('/assets/favicon.svg'),
    google: href('/assets/google.svg'),
    logo: logo ? logo[1].href : brand.logo && 'url' in brand.logo ? brand.logo.url : undefined,
  };

  const localize = (ctx: Koa.Context, uiLocales?: string) => {
    const asked = ctx.query.lang;
    const kept = ctx.cookies.get(LANGUAGE_COOKIE, { signed: false });
    const chosen = isLocale(asked) ? asked : isLocale(kept) ? kept : undefined;
    const locale: Locale = chosen ?? negotiateLocale(uiLocales, ctx.get('Accept-Language'));
    ctx.state.locale = locale;
    ctx.state.t = translator(locale, { brand: brandName });
  };

  return {
    brand: brandName,
    localize,
    render(ctx, template, model, status = 200) {
      const t = ctx.state.t as Translate;
      const lang = ctx.state.locale as Locale;
      ctx.status = status;
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Language', lang);
      ctx.vary('Accept-Language');
      ctx.vary('Cookie');
      ctx.body = env.render(`${template}.njk`, {
        ...model,
        page: {
          ...look,
          lang,
          languages: LOCALES.map((code) => ({ code, name: LANGUAGE_NAMES[code], current: code === lang, ...samePage(ctx, code) })),
          links: footer.map(({ name, href: url }) => ({ href: url, text: t(`page.${name}` as MessageKey) })),
        },
        t,
      });
    },
    middleware: async (ctx, next) => {
      const asked = ctx.query.lang;
      if (isLocale(asked) && ctx.cookies.get(LANGUAGE_COOKIE, { signed: false }) !== asked) {
        ctx.cookies.set(LANGUAGE_COOKIE, asked, { signed: false, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: YEAR_MS, overwrite: true });
      }
      localize(ctx);
      if (ctx.path === LANGUAGE_PATH && ctx.method === 'GET') return backWithLanguage(ctx);
      await next();
    },
    assets: async (ctx, next) => {
      const found = assets.get(ctx.path);
      if (!found || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
      ctx.type = found.type;
      ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
      ctx.body = found.body;
    },
  };
}
