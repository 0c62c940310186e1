// The company's colour, checked and turned into the pages' palette. Contrast is WCAG 2.1's
// (relative luminance, §1.4.3): text needs 4.5:1 against what is behind it, in both themes.
export const AA_TEXT_CONTRAST = 4.5;

type Rgb = readonly [number, number, number];

/** `#rgb` or `#rrggbb`, any case. */
export const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

function rgbOf(hex: string): Rgb {
  const digits = hex.slice(1);
  const full = digits.length === 3 ? [...digits].map((digit) => digit + digit).join('') : digits;
  return [0, 2, 4].map((at) => Number.parseInt(full.slice(at, at + 2), 16)) as unknown as Rgb;
}

const hexOf = (rgb: Rgb) => `#${rgb.map((channel) => Math.round(channel).toString(16).padStart(2, '0')).join('')}`;

/** WCAG 2.1 relative luminance of an sRGB colour. */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = rgbOf(hex).map((channel) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as unknown as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** `hex` moved `amount` (0–1) of the way towards `target`. */
function mix(hex: string, target: string, amount: number): string {
  const from = rgbOf(hex);
  const to = rgbOf(target);
  return hexOf(from.map((channel, index) => channel + (to[index]! - channel) * amount) as unknown as Rgb);
}

/** The colour nearest to `hex` (towards black or white) that reads at 4.5:1 on every one of `backgrounds`. */
function readableOn(hex: string, backgrounds: readonly string[]): string {
  const towards = relativeLuminance(backgrounds[0]!) > 0.18 ? '#000000' : '#ffffff';
  for (let step = 0; step <= 20; step++) {
    const candidate = mix(hex, towards, step / 20);
    if (backgrounds.every((background) => contrastRatio(candidate, background) >= AA_TEXT_CONTRAST)) return candidate;
  }
  return towards;
}

/** What links and focus rings sit on in each theme (views/assets/sesame.css): card, page, notice. */
export const BACKGROUNDS = { light: ['#ffffff', '#f6f8fa', '#e8f0fe'], dark: ['#1c2128', '#0d1117', '#142a4a'] } as const;

export interface Palette {
  /** Buttons: the company's colour itself, with its text colour, in both themes. */
  readonly button: string;
  readonly buttonText: string;
  /** Pressed or hovered: further from the text colour, so contrast only grows. */
  readonly buttonHover: string;
  /** Links, focus rings and accents: the company's colour made readable on each theme's backgrounds. */
  readonly accent: { readonly light: string; readonly dark: string };
}

export function brandPalette(primary: string, text: string): Palette {
  const away = relativeLuminance(text) > relativeLuminance(primary) ? '#000000' : '#ffffff';
  return {
    button: primary.toLowerCase(),
    buttonText: text.toLowerCase(),
    buttonHover: mix(primary, away, 0.18),
    accent: { light: readableOn(primary, BACKGROUNDS.light), dark: readableOn(primary, BACKGROUNDS.dark) },
  };
}
