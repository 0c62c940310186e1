// What each kind of e-mail says, in which order, as a plain view model for the templates. A request
// that names an unknown kind, misses a value or carries a link outside the issuer is a bug in the
// caller: it is refused before anything is recorded, and the error never quotes a link.
import type { MailKind, MailRequest } from './index.ts';
import { mailCatalogues } from './messages.ts';
import type { MailMessageKey } from './messages.ts';

export type MailBlock = { readonly text: string } | { readonly label: string; readonly url: string };

export interface MailView {
  readonly lang: 'en' | 'fr';
  readonly brand: string;
  readonly subject: string;
  readonly greeting: string;
  readonly blocks: readonly MailBlock[];
  readonly linkHint: string;
  readonly footer: string;
}

type Say = (key: MailMessageKey) => string;
type Values = Record<string, string>;

interface KindSpec {
  /** Values holding absolute links, which must point at the issuer. */
  readonly links: readonly string[];
  /** Other values the text needs. */
  readonly required: readonly string[];
  readonly blocks: (say: Say, values: Values) => MailBlock[];
}

/** What a security-change notice can be about: `values.change`, one message each. */
export const SECURITY_CHANGES = [
  'email-changed',
  'passkey-added',
  'passkey-removed',
  'totp-enabled',
  'totp-removed',
  'recovery-codes-created',
  'recovery-code-used',
  'provider-linked',
  'provider-unlinked',
  'second-factors-reset',
  'signed-out-everywhere',
] as const;
export type SecurityChange = (typeof SECURITY_CHANGES)[number];

const kinds: Record<MailKind, KindSpec> = {
  'verify-email': {
    links: ['link'],
    required: [],
    blocks: (say, v) => [{ text: say('verify-email.intro') }, { label: say('verify-email.action'), url: v.link! }, { text: say('verify-email.note') }],
  },
  'reset-password': {
    links: ['link'],
    required: [],
    blocks: (say, v) => [{ text: say('reset-password.intro') }, { label: say('reset-password.action'), url: v.link! }, { text: say('reset-password.note') }],
  },
  'password-changed': {
    links: ['resetLink'],
    required: [],
    blocks: (say, v) => [
      { text: say('password-changed.intro') },
      { text: say('password-changed.warning') },
      { label: say('password-changed.action'), url: v.resetLink! },
    ],
  },
  'already-registered': {
    links: ['signInLink', 'resetLink'],
    required: [],
    blocks: (say, v) => [
      { text: say('already-registered.intro') },
      { text: say('already-registered.sign-in') },
      { label: say('already-registered.sign-in.action'), url: v.signInLink! },
      { text: say('already-registered.reset') },
      { label: say('already-registered.reset.action'), url: v.resetLink! },
      { text: say('already-registered.note') },
    ],
  },
  'link-account': {
    links: ['link'],
    required: ['provider'],
    blocks: (say, v) => [{ text: say('link-account.intro') }, { label: say('link-account.action'), url: v.link! }, { text: say('link-account.note') }],
  },
  'confirm-new-email': {
    links: ['link'],
    required: [],
    blocks: (say, v) => [{ text: say('confirm-new-email.intro') }, { label: say('confirm-new-email.action'), url: v.link! }, { text: say('confirm-new-email.note') }],
  },
  // A change to the account's security, told to its owner (values: change, accountLink, and what
  // the change's message names: newEmail, device, remaining, provider).
  'security-change': {
    links: ['accountLink'],
    required: ['change'],
    blocks: (say, v) => {
      if (!(SECURITY_CHANGES as readonly string[]).includes(v.change!)) throw new Error(`mail: security-change has an unknown change ${JSON.stringify(v.change)}`);
      return [{ text: say(`security-change.${v.change}` as MailMessageKey) }, { text: say('security-change.warning') }, { label: say('security-change.action'), url: v.accountLink! }];
    },
  },
};

// One address, no display name, nothing that could end a header line.
const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+$/;

// A name is typed by whoever registers, and the message goes to the address they typed: greet by
// name only when it cannot carry a link or a line of its own (mail clients link bare domains too).
const LINK_LIKE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|:\/\/|www\.|@|\.\p{L}{2,}/iu;

function greetingName(name: string | undefined): string | undefined {
  const trimmed = name?.trim().replace(/\s+/g, ' ');
  return trimmed && trimmed.length <= 64 && !LINK_LIKE.test(trimmed) ? trimmed : undefined;
}

export function fill(template: string, values: Values): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

export function composeMail(request: MailRequest, { brand, issuer }: { brand: string; issuer: string }): MailView {
  const { kind, to, locale, values } = request;
  if (!Object.hasOwn(kinds, kind)) throw new Error(`mail: unknown kind ${JSON.stringify(kind)}`);
  if (!Object.hasOwn(mailCatalogues, locale)) throw new Error(`mail: unknown locale ${JSON.stringify(locale)}`);
  if (!ADDRESS.test(to)) throw new Error(`mail: ${kind} has an invalid recipient address`);
  const spec = kinds[kind];
  for (const name of [...spec.links, ...spec.required]) {
    if (!values[name]?.trim()) throw new Error(`mail: ${kind} needs the value ${name}`);
  }
  for (const name of spec.links) {
    if (!values[name]!.startsWith(`${issuer}/`) || /\s/.test(values[name]!)) {
      throw new Error(`mail: ${kind} value ${name} must be an absolute link under the issuer`);
    }
  }

  const catalogue = mailCatalogues[locale];
  const name = greetingName(values.name);
  const placeholders: Values = { ...values, name: name ?? '', brand };
  const say: Say = (key) => fill(catalogue[key], placeholders);
  return {
    lang: locale,
    brand,
    subject: say(`${kind}.subject` as MailMessageKey),
    greeting: name ? say('greeting.named') : say('greeting'),
    blocks: spec.blocks(say, values),
    linkHint: say('link.hint'),
    footer: say('footer'),
  };
}
