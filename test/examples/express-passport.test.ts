// clients/examples/express-passport against a running Sésame: a full sign-in through
// openid-client's Passport strategy, the profile page, and the sign-out.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../clients/examples/express-passport/app.ts';
import { Browser } from '../support/browser.ts';
import { createPerson, openPort, PASSWORD, registerExample, startSesame } from './harness.ts';
import type { Harness } from './harness.ts';

describe('example: Express with Passport (openid-client)', () => {
  let sesame: Harness;
  let app: Awaited<ReturnType<typeof openPort>>;

  beforeAll(async () => {
    sesame = await startSesame();
    app = await openPort();
    const { clientId, secret } = await registerExample(sesame.server, 'express-passport', app.origin);
    app.serve(await createApp({ issuer: sesame.issuer, clientId, clientSecret: secret!, sessionSecret: randomBytes(32).toString('hex'), baseUrl: app.origin }));
    await createPerson(sesame.server, 'carol@example.com', ['member']);
  });

  afterAll(async () => {
    await app?.stop();
    await sesame?.stop();
  });

  it('signs a person in and shows their e-mail on the profile page; sign-out ends both sessions', async () => {
    const browser = new Browser(sesame.issuer);
    browser.alsoFollows.push(app.origin);
    const welcome = await browser.open(`${app.origin}/`);
    const login = await browser.open(new URL(welcome.doc.querySelector('#sign-in')!.getAttribute('href')!, app.origin).href);
    expect(login.url.startsWith(`${sesame.issuer}/interaction/`), login.body.slice(0, 1000)).toBe(true);

    const profile = await browser.submit(login, { email: 'carol@example.com', password: PASSWORD });
    expect(profile.url).toBe(`${app.origin}/profile`);
    expect(profile.doc.querySelector('#email')?.text).toBe('carol@example.com');

    const confirm = await browser.submit(profile, {}, { selector: 'form[action="/logout"]' });
    expect(confirm.url.startsWith(sesame.issuer)).toBe(true);
    const back = await browser.submit(confirm, {}, { button: { name: 'logout', value: 'yes' } });
    expect(back.url).toBe(`${app.origin}/`);
    expect((await browser.open(`${app.origin}/profile`)).doc.querySelector('input[name="password"]')).toBeTruthy();
  });
});
