// Which language a person reads, and the translated strings. English and French; the choice
// comes from the relying app's ui_locales when it sent one, else from Accept-Language.
import { en } from './en.ts';
import type { MessageKey } from './en.ts';
import { fr } from './fr.ts';

export type { MessageKey };
export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];
export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

const catalogues: Record<Locale, Record<MessageKey, string>> = { en, fr };

function supported(tag: string): Locale | undefined {
  const language = tag.trim().toLowerCase().split('-')[0];
  return (LOCALES as readonly string[]).includes(language!) ? (language as Locale) : undefined;
}

/** `ui_locales` is a space-separated preference list (OIDC Core §3.1.2.1). */
export function negotiateLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): Locale {
  for (const tag of uiLocales?.split(' ') ?? []) {
    const locale = supported(tag);
    if (locale) return locale;
  }
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag, q: q ? Number.parseFloat(q.slice(2)) : 1, index };
    })
    .filter(({ q }) => Number.isFinite(q) && q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    const locale = supported(tag);
    if (locale) return locale;
  }
  return 'en';
}

/** `defaults` fill placeholders the caller leaves out (the company's name, for one). */
export function translator(locale: Locale, defaults: Record<string, string> = {}): Translate {
  const catalogue = catalogues[locale];
  return (key, values = {}) => {
    const all: Record<string, string | number> = { ...defaults, ...values };
    return catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in all ? String(all[name]) : whole));
  };
}
