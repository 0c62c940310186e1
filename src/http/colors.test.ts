import { describe, expect, it } from 'vitest';
import { AA_TEXT_CONTRAST, BACKGROUNDS, brandPalette, contrastRatio, relativeLuminance } from './colors.ts';

describe('WCAG 2.1 contrast', () => {
  it('matches the specification’s reference values', () => {
    expect(relativeLuminance('#000')).toBe(0);
    expect(relativeLuminance('#ffffff')).toBe(1);
    expect(contrastRatio('#000000', '#FFF')).toBe(21);
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
    expect(contrastRatio('#ffffff', '#767676')).toBe(contrastRatio('#767676', '#ffffff'));
  });
});

describe('brandPalette', () => {
  const brands: [string, string][] = [['#0b57d0', '#ffffff'], ['#ffcc00', '#000000'], ['#e4002b', '#ffffff'], ['#00a86b', '#000000'], ['#111111', '#ffffff'], ['#fafafa', '#1f2328']];

  it.each(brands)('makes %s readable as links on every background of both themes', (primary, text) => {
    const { accent } = brandPalette(primary, text);
    for (const theme of ['light', 'dark'] as const) {
      for (const background of BACKGROUNDS[theme]) expect(contrastRatio(accent[theme], background)).toBeGreaterThanOrEqual(AA_TEXT_CONTRAST);
    }
  });

  it.each(brands)('keeps the button %s as chosen, and its hover shade only adds contrast', (primary, text) => {
    const palette = brandPalette(primary, text);
    expect(palette.button).toBe(primary);
    expect(contrastRatio(palette.buttonHover, text)).toBeGreaterThan(contrastRatio(primary, text));
  });

  it('leaves a colour that already reads well alone', () => {
    expect(brandPalette('#0b57d0', '#ffffff').accent.light).toBe('#0b57d0');
  });
});
