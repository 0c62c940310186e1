// Webhooks (issue 7) for accounts made or reclaimed through a Google sign-in (issue 4): a new
// Google identity sends user.created and session.created (amr fed); a Google identity reclaiming
// an address someone registered without proving it sends user.updated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.ts';
import { signInWithGoogle, startFederation, tokensFor } from '../federation/harness.ts';
import type { Federation } from '../federation/harness.ts';
import { eventually, startReceiver } from './receiver.ts';
import type { Receiver } from './receiver.ts';

describe.each(STORES)('webhooks for Google sign-ins on %s', (kind) => {
  let h: Federation;
  let hook: Receiver;

  async function events(type: string, sub: string) {
    await eventually(() => hook.ofType(type, sub).length >= 1, `${type} for ${sub}`);
    return hook.ofType(type, sub);
  }

  beforeAll(async () => {
    h = await startFederation(kind);
    hook = await startReceiver();
    hook.secret = (await h.f.server.sesame.webhooks.addEndpoint({ url: hook.url })).secret;
  });
  afterAll(async () => {
    await h?.stop();
    await hook?.close();
  });

  it('sends user.created and session.created for the account a new Google identity gets', async () => {
    const who = h.googleAccount({ given_name: 'Gina', family_name: 'Gee', picture: 'https://lh3.googleusercontent.com/a/gina.png' });
    const { flow, page } = await signInWithGoogle(h, h.browser(), who);
    const sub = (await tokensFor(h, flow, page)).claims()!.sub;
    const [created] = await events('user.created', sub);
    expect(created!.data).toMatchObject({ sub, email: who.email, email_verified: true, name: 'Gina Gee', picture: who.picture });
    expect(created!.verified).toBe(true);
    const [session] = await events('session.created', sub);
    expect(session!.data).toMatchObject({ sub, client_id: h.f.firstParty.id, amr: ['fed'] });
  });

  it('sends user.updated (verified, Google’s names) when Google reclaims an address nobody proved', async () => {
    const squatter = await h.account({ verified: false });
    await h.f.server.sesame.users.setNames(squatter.id, { givenName: 'Squat', familyName: 'Ter' });
    const who = h.googleAccount({ email: squatter.email, given_name: 'Victoria', family_name: 'Tim' });
    const { flow, page } = await signInWithGoogle(h, h.browser(), who);
    expect((await tokensFor(h, flow, page)).claims()!.sub).toBe(squatter.id);
    await eventually(() => hook.ofType('user.updated', squatter.id).some((message) => message.data.email_verified), 'the reclaim');
    const reclaimed = hook.ofType('user.updated', squatter.id).find((message) => message.data.email_verified)!;
    expect(reclaimed.data).toMatchObject({ sub: squatter.id, email: squatter.email, email_verified: true, name: 'Victoria Tim' });
  });
});
