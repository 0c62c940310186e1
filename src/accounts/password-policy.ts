// What a new password must be (NIST SP 800-63B §3.1.1.2): at least 12 characters, long ones
// welcome, no composition rules, never truncated or case-folded; not a common or breached
// password (the ~49 000 shipped with @zxcvbn-ts/language-common, from breach corpora) nor an
// obvious variation of one, nor the person's address or full name; and hard to guess by
// zxcvbn's estimate (@zxcvbn-ts/core with language-common's dictionaries and keyboard layouts:
// rows of keys, repeats, sequences, dates, common passwords inside longer ones, the person's
// name and address), scoring at least 3. A refusal comes back as codes, the reason and what
// would help, which the pages and the CLI put in words (src/http/forms.ts).
import type { ZxcvbnFactory, ZxcvbnResult } from '@zxcvbn-ts/core';
import { MAX_PASSWORD_LENGTH } from './passwords.ts';

export const MIN_PASSWORD_LENGTH = 12;

/**
 * zxcvbn's score 3: at least 10^8 guesses, "safely unguessable: moderate protection from an
 * offline slow-hash scenario" on its authors' scale. Far beyond an online attack under our rate
 * limits, and hours of GPU time per account against argon2id. Score 4 (10^10) would also refuse
 * memorable passwords that are fine for that, such as a word, a name and a year.
 */
export const MIN_STRENGTH_SCORE = 3;

/**
 * zxcvbn's time grows with length and with look-alike characters ("@" for "a"): registration
 * checks before any rate limit, so it is bounded. It reads the first 64 characters (a password
 * whose first 64 characters are hard to guess is hard to guess), and tries 20 look-alike
 * readings of a password instead of 100 (every reading of one with up to 4 look-alikes). The
 * worst inputs then cost ~15 ms of CPU instead of ~60 ms (~300 ms at the default 256 characters).
 */
const ESTIMATED_LENGTH = 64;
const LOOK_ALIKE_READINGS = 20;

export type PasswordReason =
  | 'too-short'
  | 'too-long'
  | 'common'
  | 'like-common'
  | 'personal'
  | 'keyboard'
  | 'repeat'
  | 'sequence'
  | 'date'
  | 'word'
  | 'name'
  | 'guessable';
export type PasswordAdvice = 'capitals' | 'all-capitals' | 'reversed' | 'substitutions' | 'dates' | 'more-words';

export interface PasswordProblem {
  reason: PasswordReason;
  /** What would help, besides avoiding the reason. */
  advice: PasswordAdvice[];
}

/** Who the password is for: what it must not be made of. */
export interface PasswordContext {
  email?: string;
  givenName?: string | null;
  familyName?: string | null;
}

// zxcvbn's feedback keys (its `translationKeys`) to ours.
const REASONS: Record<string, PasswordReason> = {
  straightRow: 'keyboard',
  keyPattern: 'keyboard',
  simpleRepeat: 'repeat',
  extendedRepeat: 'repeat',
  sequences: 'sequence',
  recentYears: 'date',
  dates: 'date',
  topTen: 'like-common',
  topHundred: 'like-common',
  common: 'like-common',
  similarToCommon: 'like-common',
  pwned: 'like-common',
  wordByItself: 'word',
  namesByThemselves: 'name',
  commonNames: 'name',
  userInputs: 'personal',
};
const ADVICE: Record<string, PasswordAdvice> = {
  capitalization: 'capitals',
  allUppercase: 'all-capitals',
  reverseWords: 'reversed',
  l33t: 'substitutions',
  dates: 'dates',
  recentYears: 'dates',
  associatedYears: 'dates',
};

interface Checks {
  estimator: ZxcvbnFactory;
  common: Set<string>;
}

// Loaded on the first password checked, once: ~17 MB and ~0.3 s of CPU that a server whose
// people never choose a password here (Google sign-in only), and most CLI commands, never pay.
let checks: Promise<Checks> | undefined;
function loadChecks(): Promise<Checks> {
  checks ??= (async () => {
    const [{ ZxcvbnFactory }, { dictionary, adjacencyGraphs }] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common')]);
    return {
      estimator: new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, maxLength: ESTIMATED_LENGTH, l33tMaxSubstitutions: LOOK_ALIKE_READINGS }),
      common: new Set(dictionary['passwords-common'].map((password) => password.toLowerCase())),
    };
  })();
  return checks;
}

/** The password without what people add to a common one to pass rules: digits, symbols, years. */
function stem(password: string): string {
  return password.toLowerCase().replace(/[^\p{L}]+$/u, '').replace(/^[^\p{L}]+/u, '');
}

/** Letters only, without accents, in lower case: "Zoé.Durand-2024" → "zoedurand". */
const letters = (text: string) => text.normalize('NFD').replace(/\P{L}+/gu, '').toLowerCase();

/** The address before the @, or the full name, anywhere in the password, whatever the separators. */
function containsOwnName(password: string, { email, givenName, familyName }: PasswordContext): boolean {
  const [given, family] = [letters(givenName ?? ''), letters(familyName ?? '')];
  const own = [letters(email?.split('@')[0] ?? ''), ...(given && family ? [given + family, family + given] : [])];
  const text = letters(password);
  return own.some((word) => word.length >= 4 && text.includes(word));
}

/** What zxcvbn should know as the person's own: the address, its parts, the names. */
function personalWords({ email, givenName, familyName }: PasswordContext): string[] {
  const local = email?.split('@')[0] ?? '';
  return [email, local, ...local.split(/[._+-]+/), givenName, familyName].filter((word): word is string => typeof word === 'string' && word.length >= 3);
}

function fromFeedback({ feedback }: ZxcvbnResult): PasswordProblem {
  const reason = (feedback.warning && REASONS[feedback.warning]) || 'guessable';
  const advice = feedback.suggestions.map((key) => ADVICE[key]).filter((key) => key !== undefined && !(key === 'dates' && reason === 'date'));
  return { reason, advice: [...new Set(advice), 'more-words'] };
}

const refused = (reason: PasswordReason): PasswordProblem => ({ reason, advice: [] });

export async function passwordProblem(password: string, context: PasswordContext = {}): Promise<PasswordProblem | null> {
  if ([...password].length < MIN_PASSWORD_LENGTH) return refused('too-short');
  if (password.length > MAX_PASSWORD_LENGTH) return refused('too-long');
  const { estimator, common } = await loadChecks();
  const core = stem(password);
  if (common.has(password.toLowerCase()) || (core.length >= 4 && common.has(core))) return refused('common');
  if (containsOwnName(password, context)) return refused('personal');
  const estimate = estimator.check(password, personalWords(context));
  return estimate.score < MIN_STRENGTH_SCORE ? fromFeedback(estimate) : null;
}
