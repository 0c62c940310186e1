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
    const same = (Object.keys(en) as (keyof typeof en)[]).filter((key) => fr[key] === en[key] && /[a-z]{4}/i.test(en[key]));
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
