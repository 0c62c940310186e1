// Webhooks (issue 7), what apps receive: user.created, user.updated, user.deleted,
// session.created and session.ended, each verified by a receiver with the standardwebhooks and
// svix libraries unchanged, carrying the user as the users feed shows it and never a secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredPayloads } from '../../src/oidc/adapter.ts';
import { Browser } from '../support/browser.ts';
import { beginSignIn, oidc, signIn } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { heading, register, RP, signInForTokens, startHarness } from '../self-service/harness.ts';
import type { Harness } from '../self-service/harness.ts';
import { drained, eventually, startReceiver } from './receiver.ts';
import type { Receiver } from './receiver.ts';

const USER_KEYS = ['created_at', 'disabled', 'email', 'email_verified', 'external_id', 'family_name', 'given_name', 'name', 'picture', 'roles', 'sub', 'updated_at'];

describe.each(STORES)('webhook events on %s', (kind) => {
  let h: Harness;
  let hook: Receiver;
  const users = () => h.f.server.sesame.users;

  /** Waits for `count` events of `type` about `sub`, and returns them. */
  async function events(type: string, sub: string, count = 1) {
    await eventually(() => hook.ofType(type, sub).length >= count, `${count} ${type} for ${sub}`);
    return hook.ofType(type, sub);
  }

  beforeAll(async () => {
    h = await startHarness(kind, { TRUST_PROXY: 'true' });
    hook = await startReceiver();
    hook.secret = (await h.f.server.sesame.webhooks.addEndpoint({ url: hook.url })).secret;
  });
  afterAll(async () => {
    await h?.stop();
    await hook?.close();
  });

  it('signs every delivery so that standardwebhooks and svix both verify it, and never sends a secret', async () => {
    const { id, password } = await h.account({ label: 'signed' });
    const [created] = await events('user.created', id);
    expect(created!.verified).toBe(true);
    expect(created!.headers['content-type']).toBe('application/json');
    expect(created!.id).toMatch(/^msg_[\w-]+$/);
    expect(created!.body).not.toContain(password);
    expect(created!.body).not.toMatch(/argon2|password|hash/i);
    expect(Object.keys(created!.data).sort()).toEqual(USER_KEYS);
    expect(JSON.parse(created!.body)).toMatchObject({ type: 'user.created', timestamp: expect.stringMatching(/Z$/) });
  });

  it('sends user.created for an account made by the user service and for one registered on the sign-in pages', async () => {
    const made = await users().create({ email: 'made@example.com', password: 'plum harbour 42 lantern', givenName: 'Made', familyName: 'Here' });
    const [created] = await events('user.created', made.id);
    expect(created!.data).toMatchObject({ sub: made.id, email: 'made@example.com', email_verified: false, name: 'Made Here', roles: ['member'], disabled: false });

    const page = await register(h, h.browser(), { email: 'registered@example.com', password: 'amber falcon 7 meadow' });
    expect(heading(page)).toBe('Check your inbox');
    const registered = (await users().findByEmail('registered@example.com'))!;
    expect((await events('user.created', registered.id))[0]!.data).toMatchObject({ email: 'registered@example.com', given_name: 'Zoé' });
  });

  it('sends user.updated for roles, disabling, enabling and verification, and nothing for a change to nothing', async () => {
    const { id } = await h.account({ verified: false, label: 'updated' });
    await users().setRoles(id, ['member', 'admin']);
    await users().setRoles(id, ['member', 'admin']);
    await users().setDisabled(id, true);
    await users().setDisabled(id, true);
    await users().setDisabled(id, false);
    const user = (await users().findById(id))!;
    await users().markEmailVerified(id, user.email);
    await users().markEmailVerified(id, user.email);
    await users().setNames(id, { givenName: 'Camille', familyName: 'Martin' });
    await drained(h.prisma);
    const updates = hook.ofType('user.updated', id).map((message) => message.data);
    expect(updates.length).toBe(4);
    expect(updates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ roles: ['member', 'admin'], disabled: false, email_verified: false }),
        expect.objectContaining({ roles: ['member', 'admin'], disabled: true }),
        expect.objectContaining({ disabled: false, email_verified: false }),
        expect.objectContaining({ disabled: false, email_verified: true }),
      ]),
    );
    expect(new Set(hook.ofType('user.updated', id).map((message) => message.id)).size).toBe(4);
  });

  it('sends user.updated when the e-mailed link verifies a registered address', async () => {
    const email = 'verify-me@example.com';
    await register(h, h.browser(), { email, password: 'cobalt river 9 lantern' });
    const { link } = await h.latest(email, 'verify-email');
    const browser = h.browser();
    await browser.submit(await browser.open(link!), {});
    const { id } = (await users().findByEmail(email))!;
    const [updated] = await events('user.updated', id);
    expect(updated!.data).toMatchObject({ sub: id, email, email_verified: true });
  });

  it('sends session.created once per sign-in (consent step included) and session.ended on sign-out, with the same sid', async () => {
    const { id, email, password } = await h.account({ label: 'session' });
    const browser = new Browser(h.f.issuer, { 'x-forwarded-for': '10.99.0.1' });
    const tokens = await signInForTokens(h, browser, email, password);
    const [created] = await events('session.created', id);
    expect(created!.data).toMatchObject({ sub: id, client_id: h.f.firstParty.id, amr: ['pwd'] });
    expect(created!.data.sid).toEqual(expect.any(String));

    // A sign-in at the third-party app goes through the consent step: still one session.created.
    const other = new Browser(h.f.issuer, { 'x-forwarded-for': '10.99.0.2' });
    await signIn(other, await beginSignIn(h.web, `${RP}/cb`), email, password);

    const url = oidc.buildEndSessionUrl(h.intranet, { id_token_hint: tokens.id_token! });
    const confirm = await browser.open(url.href);
    await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
    const [ended] = await events('session.ended', id);
    expect(ended!.data).toMatchObject({ sub: id, sid: created!.data.sid, reason: 'logout' });
    await drained(h.prisma);
    const sessions = hook.ofType('session.created', id);
    expect(sessions.length).toBe(2);
    expect(sessions[1]!.data).toMatchObject({ client_id: h.f.web.id });
    expect(hook.ofType('session.ended', id).length).toBe(1);
  });

  it('sends user.deleted with the tombstone and session.ended for the sessions the removal ends', async () => {
    const { id, email, password } = await h.account({ label: 'deleted' });
    await signInForTokens(h, new Browser(h.f.issuer, { 'x-forwarded-for': '10.99.0.3' }), email, password);
    const [session] = await events('session.created', id);
    await users().remove(id);
    const [deleted] = await events('user.deleted', id);
    expect(deleted!.data).toEqual({ sub: id, external_id: null, deleted: true, updated_at: expect.stringMatching(/Z$/) });
    const [ended] = await events('session.ended', id);
    expect(ended!.data).toMatchObject({ sub: id, sid: session!.data.sid, reason: 'revoked' });
    expect(ended!.verified).toBe(true);
  });

  it('sends session.ended when the cleanup deletes an expired session', async () => {
    const { id, email, password } = await h.account({ label: 'expired' });
    await signInForTokens(h, new Browser(h.f.issuer, { 'x-forwarded-for': '10.99.0.4' }), email, password);
    const [session] = await events('session.created', id);
    // The cleanup as it will run once the session has expired.
    await deleteExpiredPayloads(h.prisma, new Date(Date.now() + 2 * h.f.server.config.ttl.session * 1000));
    const [ended] = await events('session.ended', id);
    expect(ended!.data).toMatchObject({ sub: id, sid: session!.data.sid, reason: 'expired' });
  });
});
