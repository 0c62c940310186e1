// A session that runs out (SESSION_TTL) ends like any other when the cleanup removes it: every
// app that took part gets its logout token, and the session's device goes with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { PASSWORD, RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { beginSignIn, discover, redeem, signIn } from '../support/rp.ts';
import type { oidc } from '../support/rp.ts';
import { STORES } from '../support/stores.ts';
import { eventually, startLogoutReceiver, verifyLogoutToken } from './receiver.ts';
import type { LogoutReceiver } from './receiver.ts';

describe.each(STORES)('back-channel logout of an expired session on %s', (kind) => {
  let f: Fixture;
  let receiver: LogoutReceiver;
  let app: { id: string; config: oidc.Configuration };

  beforeAll(async () => {
    receiver = await startLogoutReceiver();
    f = await startFixture(kind, { SESSION_TTL: '3' });
    const { client, secret } = await f.server.sesame.clients.add({
      client_name: 'Short-lived',
      redirect_uris: [`${RP}/short/cb`],
      grant_types: ['authorization_code'],
      first_party: true,
      development: true,
      backchannel_logout_uri: `${receiver.url}/short`,
    });
    app = { id: client.clientId, config: await discover(f.issuer, client.clientId, secret) };
  });
  afterAll(async () => {
    await f?.stop();
    await receiver?.close();
  });

  it('tells the app once the cleanup removes the expired session', async () => {
    const flow = await beginSignIn(app.config, `${RP}/short/cb`, { scope: 'openid' });
    const tokens = await redeem(app.config, flow, await signIn(new Browser(f.issuer), flow, f.alice.email, PASSWORD));
    const sid = tokens.claims()!.sid as string;
    const prisma = f.server.db.prisma;
    expect(await prisma.sessionDevice.count({ where: { accountId: f.alice.id } })).toBe(1);

    await eventually(async () => {
      await f.server.sesame.cleanup();
      return receiver.to('/short', f.alice.id).length > 0;
    }, 'the logout token of the expired session');
    const [request] = receiver.to('/short', f.alice.id);
    const claims = await verifyLogoutToken(request!.token, { issuer: f.issuer, jwksUri: app.config.serverMetadata().jwks_uri!, clientId: app.id });
    expect(claims).toMatchObject({ sub: f.alice.id, sid });
    expect(await prisma.sessionDevice.count({ where: { accountId: f.alice.id } })).toBe(0);
    expect(await prisma.oidcPayload.count({ where: { model: 'Session', accountId: f.alice.id } })).toBe(0);
  });
});
