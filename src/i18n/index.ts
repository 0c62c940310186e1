// Which language a person reads, and the translated strings. English and French; the choice
// comes from the relying app's ui_locales when it sent one, else from Accept-Language.
import { en } from './en.ts';
import type { MessageKey } from './en.ts';
import { fr } from './fr.ts';

export type { MessageKey };
export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];
/** The units a count is shown in; each has a `unit.<name>.<plural category>` message. */
export type Unit = 'minute' | 'hour' | 'day' | 'character';
export type Translate = ((key: MessageKey, values?: Record<string, string | number>) => string) & {
  /** "1 minute", "2 minutes": the number with its unit, in the form Intl.PluralRules picks for it. */
  count(unit: Unit, n: number): string;
  /** A lifetime in the largest unit that says it exactly: "15 minutes", "24 hours", "7 days". */
  duration(seconds: number): string;
};

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

const HOUR = 3600;
const DAY = 24 * HOUR;

/** `defaults` fill placeholders the caller leaves out (the company's name, for one). */
export function translator(locale: Locale, defaults: Record<string, string> = {}): Translate {
  const catalogue = catalogues[locale];
  const plurals = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const t = (key: MessageKey, values: Record<string, string | number> = {}) => {
    const all: Record<string, string | number> = { ...defaults, ...values };
    return catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in all ? String(all[name]) : whole));
  };
  // A language may have categories a unit does not spell out (French "many"): those read as "other".
  const count = (unit: Unit, n: number) => {
    const form = `unit.${unit}.${plurals.select(n)}`;
    return t(form in catalogue ? (form as MessageKey) : `unit.${unit}.other`, { count: numbers.format(n) });
  };
  const duration = (seconds: number) => {
    if (seconds >= 2 * DAY && seconds % DAY === 0) return count('day', seconds / DAY);
    if (seconds >= HOUR && seconds % HOUR === 0) return count('hour', seconds / HOUR);
    return count('minute', Math.max(1, Math.ceil(seconds / 60)));
  };
  return Object.assign(t, { count, duration });
}
