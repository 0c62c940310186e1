// The account page's passkeys: the list (views/account/passkeys.njk, in the security section),
// add one (the page's script runs the ceremony with the registration options drawn into the
// form, then the form posts the browser's answer), rename, remove. Renaming and removing are plain forms.
// Every change needs a recent sign-in, is audited (accounts/passkeys.ts) and adding or removing
// one tells the owner by e-mail. The last way to sign in cannot be removed.
import type Router from '@koa/router';
import type Koa from 'koa';
import Bowser from 'bowser';
import { z } from 'zod';
import { form } from '../interactions/guards.ts';
import { jsonField, registrationResponseSchema } from '../http/passkey-forms.ts';
import { PASSKEY_NAME_MAX } from '../accounts/passkeys.ts';
import type { RegistrationResponseJSON } from '../accounts/passkeys.ts';
import type { Translate } from '../i18n/index.ts';
import type { AccountDeps } from './deps.ts';
import type { AccountContext, AccountState } from './session.ts';
import type { AccountGuards } from './index.ts';
import { notify, signedInRecently } from './session.ts';

export type { AccountGuards };

/** The page that shows the list, where every form leads back to. */
export const PASSKEYS_PAGE = '/account/security';

const name = z.string().transform((value) => value.replace(/\s+/g, ' ').trim());
export const addPasskeyForm = z.object({ response: jsonField(registrationResponseSchema).optional().catch(undefined), name: name.catch('') });
export const renamePasskeyForm = z.object({ name: name.catch('') });

type Ctx<Form = unknown> = AccountContext & { state: { form: Form } };

/** "Chrome on macOS", from the browser that adds it; a date when its User-Agent says nothing. */
export function defaultPasskeyName(userAgent: string, t: Translate, locale: string): string {
  const parsed = Bowser.parse(userAgent || '');
  const browser = parsed.browser.name;
  const system = parsed.os.name;
  if (browser && system) return t('passkey.default-name', { browser, system });
  return t('passkey.default-name-unknown', { date: new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date()) });
}

// What a change did, as `?passkey=` on the page it leads back to: anything else shows nothing.
const NOTICES = { added: 'passkey.added', renamed: 'passkey.renamed', removed: 'passkey.removed' } as const;
const PROBLEMS = { 'not-added': 'passkey.not-added', 'last-way-in': 'passkey.last-way', 'not-found': 'passkey.not-found', 'name-invalid': 'passkey.name-invalid' } as const;
type Outcome = keyof typeof NOTICES | keyof typeof PROBLEMS;

/**
 * What views/account/passkeys.njk shows: the account's passkeys (dates in the reader's
 * language), what the last change did, and the options of a new one's ceremony (their challenge
 * signed, not stored: accounts/webauthn-challenges.ts). The page that includes it spreads this
 * in its model.
 */
export async function passkeysSection(deps: Pick<AccountDeps, 'passkeys' | 'users' | 'reauthAge'>, ctx: Koa.Context, userId: string) {
  const t = ctx.state.t as Translate;
  const { account } = ctx.state as Partial<AccountState>;
  const user = account?.user.id === userId ? account.user : await deps.users.findById(userId);
  // A sign-in too old for a change: no ceremony on the page, the form goes to the sign-in to
  // renew first (a passkey created then refused would stay on the device, unknown here).
  const canAdd = user && (!account || signedInRecently(deps, account));
  const outcome = typeof ctx.query.passkey === 'string' ? ctx.query.passkey : '';
  const day = new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'medium' });
  const moment = new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'medium', timeStyle: 'short' });
  const passkeys = await deps.passkeys.list(userId);
  return {
    passkeys: passkeys.map((passkey) => ({
      id: passkey.id,
      name: passkey.name,
      created: day.format(passkey.createdAt),
      lastUsed: passkey.lastUsedAt ? moment.format(passkey.lastUsedAt) : undefined,
      type: passkey.deviceType === 'multiDevice' ? 'multi-device' : 'single-device',
    })),
    nameMax: PASSKEY_NAME_MAX,
    passkeyOptions: canAdd ? await deps.passkeys.registrationOptions(user) : undefined,
    passkeyNotice: Object.hasOwn(NOTICES, outcome) ? t(NOTICES[outcome as keyof typeof NOTICES]) : undefined,
    passkeyProblem: Object.hasOwn(PROBLEMS, outcome) ? t(PROBLEMS[outcome as keyof typeof PROBLEMS], { max: t.count('character', PASSKEY_NAME_MAX) }) : undefined,
  };
}

/** Back to the list, saying what happened. */
function back(ctx: Koa.Context, outcome: Outcome) {
  ctx.status = 303;
  ctx.redirect(`${PASSKEYS_PAGE}?passkey=${outcome}#passkeys`);
}

export function registerAccountPasskeyRoutes(router: Router, deps: AccountDeps, { account, recent, csrf }: AccountGuards): void {
  router.post('/account/passkeys', csrf, account, recent, form(addPasskeyForm), async (ctx: Ctx<z.infer<typeof addPasskeyForm>>) => {
    const { user } = ctx.state.account;
    const { response, name: given } = ctx.state.form;
    if (!response) return back(ctx, 'not-added');
    const chosen = given.slice(0, PASSKEY_NAME_MAX) || defaultPasskeyName(ctx.get('User-Agent'), ctx.state.t, ctx.state.locale);
    const added = await deps.passkeys.register(user, response as RegistrationResponseJSON, chosen);
    if (!added) return back(ctx, 'not-added');
    await notify(deps, user, 'passkey-added', { device: added.name });
    back(ctx, 'added');
  });

  router.post('/account/passkeys/:id/rename', csrf, account, recent, form(renamePasskeyForm), async (ctx: Ctx<z.infer<typeof renamePasskeyForm>>) => {
    const { name: given } = ctx.state.form;
    if (!given || given.length > PASSKEY_NAME_MAX) return back(ctx, 'name-invalid');
    const renamed = await deps.passkeys.rename(ctx.state.account.user.id, ctx.params.id ?? '', given);
    back(ctx, renamed ? 'renamed' : 'not-found');
  });

  router.post('/account/passkeys/:id/remove', csrf, account, recent, async (ctx: AccountContext) => {
    const { user } = ctx.state.account;
    const outcome = await deps.passkeys.removeUnlessLast(user.id, ctx.params.id ?? '');
    if (outcome.kind !== 'removed') return back(ctx, outcome.kind);
    await notify(deps, user, 'passkey-removed', { device: outcome.name });
    back(ctx, 'removed');
  });
}
