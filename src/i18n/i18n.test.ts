import { describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { fr } from './fr.ts';
import { negotiateLocale, translator } from './index.ts';

describe('negotiateLocale', () => {
  it.each([
    // ui_locales first, in its order of preference; the browser only when it names nothing we have.
    ['fr', 'en', 'fr'],
    ['en', 'fr-FR,fr;q=0.9', 'en'],
    ['fr-CA en', undefined, 'fr'],
    ['de fr en', 'en', 'fr'],
    ['FR', undefined, 'fr'],
    ['de', 'fr', 'fr'],
    ['', 'fr', 'fr'],
    // Accept-Language, ranked by q-value, then by position.
    [undefined, 'fr-FR,fr;q=0.9,en;q=0.8', 'fr'],
    [undefined, 'en;q=0.5, fr;q=0.8', 'fr'],
    [undefined, 'en;q=0.9, fr', 'fr'],
    [undefined, 'de, es;q=0.9, fr;q=0.1', 'fr'],
    [undefined, 'fr;q=0.5, en;q=0.5', 'fr'],
    [undefined, 'en;q=0.5, fr;q=0.5', 'en'],
    [undefined, 'fr;q=0, en;q=0.1', 'en'],
    [undefined, 'fr; q=0.7, en; q=0.3', 'fr'],
    // Nothing we have: English.
    [undefined, 'de-DE,de;q=0.9', 'en'],
    [undefined, '*', 'en'],
    [undefined, 'fr;q=abc', 'en'],
    [undefined, undefined, 'en'],
    ['', '', 'en'],
  ])('ui_locales %j, Accept-Language %j → %s', (uiLocales, acceptLanguage, expected) => {
    expect(negotiateLocale(uiLocales, acceptLanguage)).toBe(expected);
  });
});

describe('catalogues', () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

  it('have the same keys in English and French', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
  });

  it.each(Object.keys(en) as (keyof typeof en)[])('%s has the same placeholders in both languages', (key) => {
    expect(placeholders(fr[key])).toEqual(placeholders(en[key]));
  });

  it('has no untranslated French string', () => {
    // "minute" is French too.
    const sameWord = new Set(['unit.minute.one', 'unit.minute.other']);
    const same = (Object.keys(en) as (keyof typeof en)[]).filter((key) => !sameWord.has(key) && fr[key] === en[key] && /[a-z]{4}/i.test(en[key]));
    expect(same).toEqual([]);
  });
});

describe('translator', () => {
  it('fills placeholders from the values, then from the defaults, and leaves unknown ones visible', () => {
    const t = translator('fr', { brand: 'Sésame', client: 'défaut' });
    expect(t('consent.heading', { client: 'Wiki' })).toBe('Wiki souhaite accéder à votre compte Sésame');
    expect(t('signed-out.back')).toBe('Retour à défaut');
    expect(translator('en')('login.to-client')).toBe('to continue to {client}');
    expect(translator('en')('error.reference', { id: 42 })).toBe('Reference: 42');
  });

  it('does not interpret replacement patterns in values', () => {
    expect(translator('en')('login.to-client', { client: "$& $' $1" })).toBe("to continue to $& $' $1");
  });
});

describe('plurals', () => {
  it.each([
    ['en', 'minute', 1, '1 minute'],
    ['en', 'minute', 2, '2 minutes'],
    ['en', 'minute', 0, '0 minutes'],
    ['en', 'character', 254, '254 characters'],
    ['en', 'hour', 1, '1 hour'],
    ['en', 'day', 1000, '1,000 days'],
    // French: 0 and 1 are singular; large round numbers ("many") read as the plural.
    ['fr', 'minute', 0, '0 minute'],
    ['fr', 'minute', 1, '1 minute'],
    ['fr', 'minute', 2, '2 minutes'],
    ['fr', 'hour', 24, '24 heures'],
    ['fr', 'character', 1, '1 caractère'],
    ['fr', 'character', 254, '254 caractères'],
    ['fr', 'day', 1_000_000, '1\u202f000\u202f000 jours'],
  ] as const)('%s: %d %s → %s', (locale, unit, n, expected) => {
    expect(translator(locale).count(unit, n)).toBe(expected);
  });

  it.each([
    [60, '1 minute', '1 minute'],
    [15 * 60, '15 minutes', '15 minutes'],
    [90, '2 minutes', '2 minutes'],
    [3600, '1 hour', '1 heure'],
    [24 * 3600, '24 hours', '24 heures'],
    [7 * 24 * 3600, '7 days', '7 jours'],
  ])('a lifetime of %ds reads "%s" and "%s"', (seconds, english, french) => {
    expect(translator('en').duration(seconds)).toBe(english);
    expect(translator('fr').duration(seconds)).toBe(french);
  });

  it('puts the count inside a sentence', () => {
    const t = translator('fr');
    expect(t('too-many.message', { minutes: t.count('minute', 1) })).toBe('Pour votre sécurité, attendez 1 minute avant de réessayer.');
    expect(translator('en')('form.too-long', { max: translator('en').count('character', 254) })).toBe('This is too long: use at most 254 characters.');
  });
});
