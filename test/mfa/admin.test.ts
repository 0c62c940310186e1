// The admin's side of second factors: `users mfa` says what an account has, `users mfa-reset`
// removes it all (audited, the owner told by e-mail) for a person who lost them, and
// `clients add|update --require-mfa` makes an app ask every sign-in for a second factor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.ts';
import { expectRefused, parsed, runAdmin } from '../support/admin-cli.ts';
import { openSignIn, startFederation, tokensFor } from '../federation/harness.ts';
import type { Federation } from '../federation/harness.ts';
import { ACR_ONE_FACTOR, expectCodePage, giveRecoveryCodes, giveTotp } from './helpers.ts';

describe.each(STORES)('admin commands for second factors (%s)', (kind) => {
  let h: Federation;
  let cwd: string;
  const admin = (...args: string[]) => runAdmin(h.f.store.env, cwd, args);

  beforeAll(async () => {
    h = await startFederation(kind);
    cwd = mkdtempSync(join(tmpdir(), 'sesame-cli-'));
  });
  afterAll(async () => {
    await h?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('shows what an account has, and resets it when told --yes', async () => {
    const account = await h.account();
    await giveTotp(h, account);
    await giveRecoveryCodes(h, account.id);
    expect(parsed(await admin('users', 'mfa', account.email, '--json'))).toEqual({
      id: account.id,
      email: account.email,
      authenticator_app: true,
      recovery_codes_left: 10,
      passkeys: [],
    });
    const text = await admin('users', 'mfa', account.id);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^authenticator app:\s+yes$/m);
    expect(text.stdout).toMatch(/^recovery codes left:\s+10$/m);

    expectRefused(await admin('users', 'mfa-reset', account.email), /--yes/, 2);
    expect(parsed(await admin('users', 'mfa', account.email, '--json')).authenticator_app, 'nothing removed without --yes').toBe(true);

    const reset = parsed(await admin('users', 'mfa-reset', account.email, '--yes', '--json'));
    expect(reset).toEqual({ id: account.id, email: account.email, removed: { passkeys: 0, authenticator_app: true, recovery_codes: 10 } });
    expect(parsed(await admin('users', 'mfa', account.email, '--json'))).toMatchObject({ authenticator_app: false, recovery_codes_left: 0, passkeys: [] });

    const audited = await h.prisma.auditEvent.findMany({ where: { action: 'user.mfa-reset', userId: account.id } });
    expect(audited).toHaveLength(1);
    expect(audited[0]!.actor).toMatch(/^admin:/);
    // Queued by the command, delivered by the server (now, rather than at its next poll).
    await h.f.server.sesame.mailer.deliverDue();
    const mails = await h.inbox(account.email, 'security-change');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('An administrator removed the second factors');

    // The password alone signs in again.
    const browser = h.browser();
    const { flow, page } = await openSignIn(h, browser);
    const done = await browser.submit(page, { email: account.email, password: account.password });
    expect((await tokensFor(h, flow, done)).claims()!.acr).toBe(ACR_ONE_FACTOR);

    // Nothing left to reset: said so, exit 0.
    const again = await admin('users', 'mfa-reset', account.email, '--yes');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('had no second factor');
    expectRefused(await admin('users', 'mfa', 'nobody@example.org'), /no account/i, 1);
  });

  it('registers and updates an app that asks every sign-in for a second factor', async () => {
    const added = parsed(await admin('clients', 'add', '--name', 'Payroll', '--redirect-uri', 'https://payroll.example.com/cb', '--require-mfa', '--json'));
    expect(added.require_mfa).toBe(true);
    const shown = await admin('clients', 'show', added.client_id);
    expect(shown.stdout).toMatch(/^second factor:\s+required for every sign-in$/m);
    expect(parsed(await admin('clients', 'update', added.client_id, '--no-require-mfa', '--json')).require_mfa).toBe(false);
    expect(parsed(await admin('clients', 'update', added.client_id, '--require-mfa', '--json')).require_mfa).toBe(true);
    const plain = parsed(await admin('clients', 'add', '--name', 'Wiki two', '--redirect-uri', 'https://wiki2.example.com/cb', '--json'));
    expect(plain.require_mfa).toBe(false);
  });

  it('still asks for the code of an account whose factors were not reset', async () => {
    const account = await h.account();
    await giveTotp(h, account);
    const browser = h.browser();
    const { page } = await openSignIn(h, browser);
    expectCodePage(await browser.submit(page, { email: account.email, password: account.password }));
  });
});
