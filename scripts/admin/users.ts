// `admin users …`: create and manage local accounts.
import type { Command } from 'commander';
import { isEmailAddress } from '../../src/accounts/users.ts';
import type { User, UserService } from '../../src/accounts/users.ts';
import { passwordProblem } from '../../src/accounts/password-policy.ts';
import { passwordMessage } from '../../src/http/forms.ts';
import { translator } from '../../src/i18n/index.ts';
import { withContext } from './context.ts';
import { registerUserImportCommand } from './users-import.ts';
import { details, emit, table } from './output.ts';
import { readStdin, RefusedError, UsageError } from './shared.ts';
import { ROLE_NAME } from '../../src/config.ts';
import { createFactors } from '../../src/accounts/factors.ts';
import { createPasskeys } from '../../src/accounts/passkeys.ts';
import { createMailer } from '../../src/mail/index.ts';
import { createLogger } from '../../src/log.ts';


function describe(user: User) {
  return {
    id: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    given_name: user.givenName,
    family_name: user.familyName,
    roles: user.roles,
    external_id: user.externalId,
    has_password: user.passwordHash !== null,
    status: user.disabledAt ? 'disabled' : 'enabled',
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

function showUser(user: ReturnType<typeof describe>) {
  return details([
    ['id', user.id],
    ['e-mail', user.email],
    ['verified', user.email_verified ? 'yes' : 'no'],
    ['name', [user.given_name, user.family_name].filter(Boolean).join(' ') || undefined],
    ['roles', user.roles],
    ['external id', user.external_id],
    ['password', user.has_password ? 'set' : 'none (cannot sign in with a password)'],
    ['status', user.status],
    ['created', user.created_at],
    ['updated', user.updated_at],
  ]);
}

/** Role names given on the command line, checked against ROLES. */
function checkRoles(roles: string[], known: readonly string[]): string[] {
  for (const role of roles) {
    if (!ROLE_NAME.test(role)) throw new RefusedError(`"${role}" is not a role name (lower-case letters, digits, "_", "-", ":")`);
    if (!known.includes(role)) throw new RefusedError(`unknown role "${role}": the roles are ${known.join(', ')} (the ROLES setting)`);
  }
  return [...new Set(roles)];
}

async function findUser(service: UserService, idOrEmail: string): Promise<User> {
  const found = idOrEmail.includes('@') ? await service.findByEmail(idOrEmail) : await service.findById(idOrEmail);
  if (!found) throw new RefusedError(`no account "${idOrEmail}"`);
  return found;
}

export function registerUserCommands(program: Command) {
  const users = program.command('users').description('create and manage people’s accounts');

  users
    .command('add')
    .description('create an account')
    .requiredOption('--email <email>', 'the e-mail address they sign in with')
    .option('--password <password>', 'initial password (visible in shell history: prefer --password-stdin)')
    .option('--password-stdin', 'read the initial password from standard input')
    .option('--verified', 'mark the e-mail address as verified', false)
    .option('--given-name <name>', 'given (first) name')
    .option('--family-name <name>', 'family (last) name')
    .option('--json', 'print JSON')
    .action(async (options) => {
      const email = String(options.email).trim();
      if (!isEmailAddress(email)) throw new RefusedError(`"${email}" is not an e-mail address`);
      if (options.password !== undefined && options.passwordStdin) throw new UsageError('use either --password or --password-stdin, not both');
      const password: string | undefined = options.passwordStdin ? await readStdin() : options.password;
      const problem = password === undefined ? null : await passwordProblem(password, { email, givenName: options.givenName, familyName: options.familyName });
      // In the registration page's words (src/http/forms.ts): both explain a refusal alike.
      if (problem) throw new RefusedError(`password refused: ${passwordMessage(translator('en'), problem)}`);
      await withContext(async ({ users: service, audit }) => {
        const user = describe(
          await service.create({ email, password, emailVerified: options.verified, givenName: options.givenName, familyName: options.familyName }),
        );
        await audit('user.add', user.id, { email: user.email });
        emit(options.json, user, () => ['Account created.', showUser(user)].join('\n'));
      });
    });

  users
    .command('list')
    .description('list accounts')
    .option('--role <role>', 'only accounts that have this role')
    .option('--json', 'print JSON')
    .action((options) =>
      withContext(async ({ users: service }) => {
        const all = (await service.list({ role: options.role })).map(describe);
        emit(options.json, all, () =>
          table(
            ['ID', 'E-MAIL', 'VERIFIED', 'NAME', 'ROLES', 'PASSWORD', 'STATUS', 'CREATED'],
            all.map((u) => [u.id, u.email, u.email_verified ? 'yes' : 'no', [u.given_name, u.family_name].filter(Boolean).join(' '), u.roles.join(','), u.has_password ? 'yes' : 'no', u.status, u.created_at]),
          ),
        );
      }),
    );

  users
    .command('show <id-or-email>')
    .description('show one account')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, options) =>
      withContext(async ({ users: service }) => {
        const user = describe(await findUser(service, idOrEmail));
        emit(options.json, user, () => showUser(user));
      }),
    );

  users
    .command('set-roles <id-or-email> <roles...>')
    .description('replace the roles of an account (apps see them in the `roles` claim)')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, names: string[], options) =>
      withContext(async ({ users: service, audit, config }) => {
        const roles = checkRoles(names, config.roles.names);
        const found = await findUser(service, idOrEmail);
        const user = describe((await service.setRoles(found.id, roles))!);
        await audit('user.set-roles', user.id, { from: found.roles, to: user.roles });
        emit(options.json, user, () => `Account ${user.email} (${user.id}) now has the roles: ${user.roles.join(', ') || '(none)'}.`);
      }),
    );

  users
    .command('consents <id-or-email>')
    .description('list the apps the person allowed to see their account, and what each may see')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, options) =>
      withContext(async ({ users: service, consents, clients }) => {
        const user = await findUser(service, idOrEmail);
        const names = new Map((await clients.list()).map((client) => [client.clientId, client.definition.client_name]));
        const all = (await consents.list(user.id)).map((consent) => ({
          client_id: consent.clientId,
          client_name: names.get(consent.clientId) ?? null,
          scopes: consent.scopes,
          claims: consent.claims,
          granted_at: consent.grantedAt,
          updated_at: consent.updatedAt,
        }));
        emit(options.json, all, () =>
          all.length === 0
            ? `${user.email} has not allowed any app (first-party apps need no consent).`
            : table(
                ['CLIENT', 'NAME', 'SCOPES', 'FIRST ALLOWED', 'LAST CHANGED'],
                all.map((c) => [c.client_id, c.client_name ?? '', c.scopes.join(' '), c.granted_at, c.updated_at]),
              ),
        );
      }),
    );

  users
    .command('forget-consent <id-or-email>')
    .description('withdraw what the person allowed an app (or every app): the app is signed out and must ask again')
    .option('--client <id>', 'only this app (default: every app)')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, options) =>
      withContext(async ({ users: service, consents }) => {
        const user = await findUser(service, idOrEmail);
        if (options.client && !(await consents.find(user.id, options.client))) {
          throw new RefusedError(`${user.email} has not allowed client "${options.client}"`);
        }
        const forgotten = await consents.forget(user.id, options.client);
        // Each app forgotten is recorded by the consent store (consent.withdrawn), as this admin.
        emit(options.json, { id: user.id, email: user.email, forgotten }, () =>
          forgotten.length === 0
            ? `${user.email} had not allowed any app; nothing to forget.`
            : `Forgot what ${user.email} allowed ${forgotten.join(', ')}; their tokens for ${forgotten.length === 1 ? 'it' : 'them'} no longer work.`,
        );
      }),
    );

  users
    .command('remove <id-or-email>')
    .description('delete an account and everything kept about it; its sessions and tokens end')
    .option('--yes', 'confirm the removal')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, options) =>
      withContext(async ({ users: service, audit }) => {
        const found = await findUser(service, idOrEmail);
        if (!options.yes) throw new UsageError(`this deletes the account ${found.email} and ends its sessions and tokens; run again with --yes to confirm`);
        await service.remove(found.id);
        await audit('user.remove', found.id, { email: found.email });
        emit(options.json, { id: found.id, email: found.email, removed: true }, () => `Account ${found.email} (${found.id}) removed.`);
      }),
    );

  users
    .command('unlink <id-or-email>')
    .description('unlink the account’s sign-in at an upstream provider (Google); the next one links or creates again by the usual rules')
    .requiredOption('--provider <id>', 'the upstream provider, e.g. google')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, options) =>
      withContext(async ({ users: service, federated }) => {
        const user = await findUser(service, idOrEmail);
        // Each sign-in unlinked is recorded by the service (identity.unlinked), as this admin.
        const unlinked = await federated.unlink(user.id, options.provider);
        if (!unlinked.length) throw new RefusedError(`${user.email} has no sign-in at "${options.provider}" linked`);
        emit(options.json, { id: user.id, email: user.email, provider: options.provider, unlinked }, () => `Unlinked ${user.email} from ${options.provider}.`);
      }),
    );

  users
    .command('mfa <id-or-email>')
    .description('show the account’s second factors: passkeys, authenticator app, recovery codes left')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, options) =>
      withContext(async ({ users: service, prisma, config, trail }) => {
        const user = await findUser(service, idOrEmail);
        const factors = await createFactors({ prisma }).factorsOf(user.id);
        const passkeys = (await createPasskeys({ prisma, webauthn: config.webauthn, audit: trail }).list(user.id)).map((passkey) => ({
          id: passkey.id,
          name: passkey.name,
          kind: passkey.deviceType === 'multiDevice' ? 'synced' : 'security key',
          created_at: passkey.createdAt,
          last_used_at: passkey.lastUsedAt,
        }));
        const shown = { id: user.id, email: user.email, authenticator_app: factors.totp, recovery_codes_left: factors.recoveryCodes, passkeys };
        emit(options.json, shown, () =>
          [
            details([
              ['account', `${user.email} (${user.id})`],
              ['authenticator app', factors.totp ? 'yes' : 'no'],
              ['recovery codes left', String(factors.recoveryCodes)],
              ['passkeys', String(passkeys.length)],
            ]),
            ...(passkeys.length ? ['', table(['NAME', 'KIND', 'ADDED', 'LAST USED'], passkeys.map((p) => [p.name, p.kind, p.created_at, p.last_used_at ?? 'never']))] : []),
          ].join('\n'),
        );
      }),
    );

  users
    .command('mfa-reset <id-or-email>')
    .description('remove the account’s passkeys, authenticator app and recovery codes (a person who lost them); they are told by e-mail')
    .option('--yes', 'confirm the reset')
    .option('--json', 'print JSON')
    .action((idOrEmail: string, options) =>
      withContext(async ({ users: service, prisma, config, audit }) => {
        const user = await findUser(service, idOrEmail);
        if (!options.yes) throw new UsageError(`this removes every second factor of ${user.email} (passkeys, authenticator app, recovery codes); run again with --yes to confirm`);
        const removed = await createFactors({ prisma }).resetFactors(user.id);
        const any = removed.passkeys > 0 || removed.totp || removed.recoveryCodes > 0;
        if (any) {
          await audit('user.mfa-reset', user.id, { passkeys: removed.passkeys, authenticatorApp: removed.totp, recoveryCodes: removed.recoveryCodes });
          // Queued with the server's mail; the server delivers it (this command does not wait).
          const mailer = createMailer({ prisma, config, log: createLogger({ level: 'silent' }) });
          await mailer.send({ kind: 'security-change', to: user.email, locale: 'en', values: { change: 'second-factors-reset', accountLink: `${config.issuer}/account` } });
        }
        emit(options.json, { id: user.id, email: user.email, removed: { passkeys: removed.passkeys, authenticator_app: removed.totp, recovery_codes: removed.recoveryCodes } }, () =>
          any
            ? `Removed the second factors of ${user.email}: ${removed.passkeys} passkey(s), ${removed.totp ? 'the authenticator app' : 'no authenticator app'}, ${removed.recoveryCodes} recovery code(s). They were told by e-mail.`
            : `${user.email} had no second factor; nothing to reset.`,
        );
      }),
    );

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    users
      .command(`${name} <id-or-email>`)
      .description(disabled ? 'stop an account from signing in; its tokens stop working' : 'allow a disabled account again')
      .option('--json', 'print JSON')
      .action((idOrEmail: string, options) =>
        withContext(async ({ users: service, audit }) => {
          const found = await findUser(service, idOrEmail);
          const user = describe((await service.setDisabled(found.id, disabled))!);
          await audit(`user.${name}`, user.id);
          emit(options.json, user, () => `Account ${user.email} (${user.id}) is now ${user.status}.`);
        }),
      );
  }
  registerUserImportCommand(users);
}
