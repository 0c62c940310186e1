// E-mail (issue 3), from outside: what each message says and where its links point, and that
// delivery is durable — recorded before any attempt, retried with back-off, given up after
// maxAttempts, never sent twice by two replicas — on every store, through the real SendGrid
// client against a loopback stand-in. No log line may hold a link's token or the API key.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { Env } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import type { Database } from '../src/db/database.ts';
import { createLogger } from '../src/log.ts';
import { createMailer } from '../src/mail/index.ts';
import type { MailKind, Mailer, MailRequest } from '../src/mail/index.ts';
import { en, fr } from '../src/mail/messages.ts';
import { retryDelaySeconds } from '../src/mail/queue.ts';
import { createMailRenderer } from '../src/mail/render.ts';
import { startSendGridStandIn } from './support/sendgrid-stand-in.ts';
import type { SendGridStandIn } from './support/sendgrid-stand-in.ts';
import { createTestStore, STORES } from './support/stores.ts';
import type { TestStore } from './support/stores.ts';

const ISSUER = 'https://id.acme.test';
const API_KEY = 'SG.stand-in-key';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
const urlsIn = (body: string) => body.match(/https?:\/\/[^\s"'<>]+/g) ?? [];

describe('mail catalogues and back-off', () => {
  it('have the same keys and the same placeholders in English and French', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(fr[key]), key).toEqual(placeholders(en[key]));
      expect(fr[key], key).not.toBe('');
    }
  });

  it('doubles the delay after each failure, up to one hour', () => {
    expect([1, 2, 3, 4].map((attempts) => retryDelaySeconds(attempts, 30))).toEqual([30, 60, 120, 240]);
    expect(retryDelaySeconds(8, 30)).toBe(3600);
    expect(retryDelaySeconds(40, 30)).toBe(3600);
  });

  it('greets by name only when the name cannot carry a link of its own', () => {
    const render = createMailRenderer({ brand: 'Acme', issuer: ISSUER });
    const greet = (name: string) => {
      const { text, html } = render({ kind: 'verify-email', to: 'a@example.test', locale: 'en', values: { link: `${ISSUER}/verify?t=1`, name } });
      for (const url of [...urlsIn(text), ...urlsIn(html)]) expect(url.startsWith(`${ISSUER}/`)).toBe(true);
      return text.split('\n')[0];
    };
    expect(greet('  Zoë   Dupont-Éluard ')).toBe('Hello Zoë Dupont-Éluard,');
    expect(greet('J. R. R. Tolkien')).toBe('Hello J. R. R. Tolkien,');
    for (const name of ['Win at https://evil.test', 'see evil.example today', 'www.evil', 'me@evil.test', 'x\u202Eyz', 'a'.repeat(65)]) {
      expect(greet(name), name).toBe('Hello,');
    }
  });
});

describe.each(STORES)('mail on %s', (storeKind) => {
  let store: TestStore;
  let db: Database;
  let standIn: SendGridStandIn;
  const logs: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  });
  const mailers: Mailer[] = [];
  const secrets: string[] = [];
  const token = () => {
    const value = randomBytes(16).toString('base64url');
    secrets.push(value);
    return value;
  };

  const mailerFor = (env: Env = {}, prisma = db.prisma) => {
    const config = loadConfig({
      NODE_ENV: 'test',
      ...store.env,
      ISSUER,
      BRAND_NAME: 'Acme',
      SENDGRID_API_KEY: API_KEY,
      SENDGRID_API_URL: standIn.url,
      MAIL_FROM: 'Acme Accounts <accounts@acme.test>',
      MAIL_TIMEOUT: '1',
      MAIL_RETRY_DELAY: '1',
      MAIL_MAX_ATTEMPTS: '3',
      ...env,
    });
    const mailer = createMailer({ prisma, config, log });
    mailers.push(mailer);
    return mailer;
  };
  const rows = () => db.prisma.mailMessage.findMany({ orderBy: { id: 'asc' } });
  /** Brings every retry forward, instead of waiting for its back-off. */
  const makeDue = () => db.prisma.mailMessage.updateMany({ where: { status: 'pending' }, data: { nextAttemptAt: new Date(Date.now() - 60_000) } });
  const resetLink = () => `${ISSUER}/password/reset?token=${token()}`;
  const request = (kind: MailKind, locale: 'en' | 'fr', to = `${kind}.${locale}@example.test`): MailRequest => {
    const values: Record<MailKind, Record<string, string>> = {
      'verify-email': { link: `${ISSUER}/email/verify?token=${token()}&uid=abc`, name: '<b>Zoë</b> & Co' },
      'reset-password': { link: resetLink() },
      'password-changed': { resetLink: resetLink() },
      'already-registered': { signInLink: `${ISSUER}/sign-in`, resetLink: resetLink() },
      'link-account': { link: `${ISSUER}/link/confirm?token=${token()}`, provider: 'Google' },
      'confirm-new-email': { link: `${ISSUER}/account/email/confirm?token=${token()}` },
      'security-change': { change: 'email-changed', newEmail: 'new@example.test', accountLink: `${ISSUER}/account` },
    };
    return { kind, to, locale, values: values[kind] };
  };

  beforeAll(async () => {
    store = await createTestStore(storeKind);
    db = await openDatabase(store.source, { migrate: true });
    standIn = await startSendGridStandIn();
  });
  afterAll(async () => {
    await standIn?.close();
    await db?.close();
    await store?.dispose();
  });
  beforeEach(async () => {
    standIn.reset();
    logs.length = 0;
    await db.prisma.mailMessage.deleteMany();
  });
  afterEach(async () => {
    await Promise.all(mailers.splice(0).map((mailer) => mailer.stop()));
    for (const secret of [...secrets.splice(0), API_KEY]) expect(logs.filter((line) => line.includes(secret))).toEqual([]);
  });

  it('sends every kind through SendGrid, in English and French, from the sender to the recipient', async () => {
    const mailer = mailerFor();
    expect(mailer.transport).toBe('sendgrid');
    const kinds = Object.keys(en).flatMap((key) => (key.endsWith('.subject') ? [key.replace('.subject', '') as MailKind] : []));
    const sent = (['en', 'fr'] as const).flatMap((locale) => kinds.map((kind) => request(kind, locale)));
    expect(kinds).toEqual(['verify-email', 'reset-password', 'password-changed', 'already-registered', 'link-account', 'confirm-new-email', 'security-change']);
    for (const mail of sent) await mailer.send(mail);
    expect(await mailer.deliverDue()).toBe(sent.length);

    expect(standIn.requests).toHaveLength(sent.length);
    for (const mail of sent) {
      const received = standIn.requests.filter(({ body }) => body.personalizations[0]!.to[0]!.email === mail.to);
      expect(received, mail.to).toHaveLength(1);
      const { headers, body } = received[0]!;
      expect(headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(body.personalizations).toEqual([{ to: [{ email: mail.to }] }]);
      expect(body.from).toEqual({ email: 'accounts@acme.test', name: 'Acme Accounts' });
      expect(body.subject).toContain('Acme');
      expect(body.tracking_settings).toEqual({
        click_tracking: { enable: false, enable_text: false },
        open_tracking: { enable: false },
        subscription_tracking: { enable: false },
      });
      const text = body.content.find(({ type }) => type === 'text/plain')!.value;
      const html = body.content.find(({ type }) => type === 'text/html')!.value;
      expect(html).toContain(`<html lang="${mail.locale}">`);
      for (const part of [text, html]) {
        expect(part).not.toMatch(/\{\w+\}/);
        expect(urlsIn(part).length).toBeGreaterThan(0);
        for (const url of urlsIn(part)) expect(url.startsWith(`${ISSUER}/`), url).toBe(true);
      }
      // Each link once in the text, and in the HTML both as the button and as visible text.
      for (const link of Object.values(mail.values).filter((value) => value.startsWith('http'))) {
        expect(text.split(link)).toHaveLength(2);
        expect(html.split(link.replaceAll('&', '&amp;'))).toHaveLength(4);
      }
    }

    const subjectOf = (to: string) => standIn.requests.find(({ body }) => body.personalizations[0]!.to[0]!.email === to)!.body.subject;
    expect(subjectOf('verify-email.en@example.test')).toBe('Confirm your e-mail address for Acme');
    expect(subjectOf('verify-email.fr@example.test')).toBe('Confirmez votre adresse e-mail pour Acme');
    expect(subjectOf('link-account.en@example.test')).toBe('Confirm linking your Google sign-in to Acme');
    expect(subjectOf('link-account.fr@example.test')).toBe('Confirmez la liaison de votre connexion Google à Acme');
    const verify = standIn.requests.find(({ body }) => body.subject === 'Confirm your e-mail address for Acme')!.body.content;
    expect(verify.find(({ type }) => type === 'text/plain')!.value).toContain('Hello <b>Zoë</b> & Co,');
    expect(verify.find(({ type }) => type === 'text/html')!.value).toContain('Hello &lt;b&gt;Zoë&lt;/b&gt; &amp; Co,');
  });

  it('records the message before any attempt, and erases its body once delivered', async () => {
    const mailer = mailerFor();
    const mail = request('reset-password', 'en');
    await mailer.send(mail);
    const [recorded] = await rows();
    expect(recorded).toMatchObject({ kind: 'reset-password', recipient: mail.to, status: 'pending', attempts: 0, sentAt: null });
    expect(recorded!.text).toContain(mail.values.link);
    expect(standIn.requests).toHaveLength(0);

    expect(await mailer.deliverDue()).toBe(1);
    const [delivered] = await rows();
    expect(delivered).toMatchObject({ status: 'sent', attempts: 1, html: '', text: '', lastError: null });
    expect(delivered!.sentAt).toBeInstanceOf(Date);
    expect(await mailer.deliverDue()).toBe(0);
  });

  it('retries after a 500, with back-off, and delivers once', async () => {
    const mailer = mailerFor();
    standIn.script('fail', 'succeed');
    await mailer.send(request('password-changed', 'fr'));
    expect(await mailer.deliverDue()).toBe(1);
    const [failed] = await rows();
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, lastError: 'SendGrid answered 500: stand-in outage' });
    expect(failed!.nextAttemptAt.getTime() - Date.now()).toBeGreaterThan(500);
    expect(await mailer.deliverDue()).toBe(0);
    expect(logs.some((line) => line.includes('"level":40') && line.includes('"kind":"password-changed"'))).toBe(true);

    await sleep(1100);
    expect(await mailer.deliverDue()).toBe(1);
    expect(await mailer.deliverDue()).toBe(0);
    expect(standIn.requests.map(({ behaviour }) => behaviour)).toEqual(['fail', 'succeed']);
    expect(await rows()).toMatchObject([{ status: 'sent', attempts: 2, html: '', text: '' }]);
  });

  it('counts a request left unanswered past the timeout as a failure, and retries it', async () => {
    const mailer = mailerFor();
    standIn.script('hang', 'succeed');
    await mailer.send(request('verify-email', 'en'));
    const started = Date.now();
    expect(await mailer.deliverDue()).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3000);
    const [timedOut] = await rows();
    expect(timedOut).toMatchObject({ status: 'pending', attempts: 1 });
    expect(timedOut!.lastError).toMatch(/timeout|no answer/i);

    await makeDue();
    expect(await mailer.deliverDue()).toBe(1);
    expect(standIn.requests.map(({ behaviour }) => behaviour)).toEqual(['hang', 'succeed']);
    expect(await rows()).toMatchObject([{ status: 'sent', attempts: 2 }]);
  });

  it('doubles the delay between attempts and gives up after maxAttempts, logging who and what but no body', async () => {
    const mailer = mailerFor();
    standIn.otherwise = 'fail';
    const mail = request('already-registered', 'en', 'owner@example.test');
    await mailer.send(mail);
    for (const delay of [1, 2]) {
      expect(await mailer.deliverDue()).toBe(1);
      const wait = (await rows())[0]!.nextAttemptAt.getTime() - Date.now();
      expect(wait).toBeGreaterThan(delay * 1000 - 500);
      expect(wait).toBeLessThanOrEqual(delay * 1000 + 100);
      await makeDue();
    }
    expect(await mailer.deliverDue()).toBe(1);
    expect(await rows()).toMatchObject([{ status: 'failed', attempts: 3, html: '', text: '', sentAt: null }]);
    await makeDue();
    expect(await mailer.deliverDue()).toBe(0);
    expect(standIn.requests).toHaveLength(3);

    const errors = logs.map((line) => JSON.parse(line)).filter((entry) => entry.level === 50);
    expect(errors).toEqual([expect.objectContaining({ to: 'owner@example.test', kind: 'already-registered', attempts: 3 })]);
    expect(JSON.stringify(errors)).not.toContain(ISSUER);
  });

  it('answers send() at once while SendGrid hangs, and stop() waits for the attempt in progress', async () => {
    const mailer = mailerFor();
    standIn.otherwise = 'hang';
    mailer.start();
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await mailer.send(request('reset-password', 'en', `hang${i}@example.test`));
      durations.push(performance.now() - started);
    }
    expect(Math.max(...durations)).toBeLessThan(500);
    // Kicked by send(), not by the next poll.
    for (let waited = 0; standIn.requests.length === 0 && waited < 2000; waited += 20) await sleep(20);
    expect(standIn.requests.length).toBeGreaterThan(0);

    const stopping = Date.now();
    await mailer.stop();
    expect(Date.now() - stopping).toBeLessThan(3000);
    const after = await rows();
    expect(after.every((row) => row.status === 'pending')).toBe(true);
    expect(after.filter((row) => row.attempts > 0).every((row) => /timeout|no answer/i.test(row.lastError ?? ''))).toBe(true);
  });

  it('never sends one message twice when two mailers on the same database deliver at once', async () => {
    const other = await openDatabase(store.source, { attach: true });
    try {
      const one = mailerFor();
      const two = mailerFor({}, other.prisma);
      for (let i = 0; i < 30; i++) await one.send(request('password-changed', 'en', `user${i}@example.test`));
      standIn.delayMs = 20;
      const [byOne, byTwo] = await Promise.all([one.deliverDue(), two.deliverDue()]);
      expect(byOne + byTwo).toBe(30);
      expect(byOne).toBeGreaterThan(0);
      expect(byTwo).toBeGreaterThan(0);
      const recipients = standIn.requests.map(({ body }) => body.personalizations[0]!.to[0]!.email);
      expect(new Set(recipients).size).toBe(30);
      expect(recipients).toHaveLength(30);
      expect((await rows()).every((row) => row.status === 'sent' && row.attempts === 1)).toBe(true);
    } finally {
      await Promise.all(mailers.splice(0).map((mailer) => mailer.stop()));
      await other.close();
    }
  });

  it('writes each message to the development outbox as HTML and text, logging a line without the link', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sesame-outbox-'));
    try {
      const mailer = mailerFor({ SENDGRID_API_KEY: '', DATA_DIR: dataDir });
      expect(mailer.transport).toBe('outbox');
      const mail = request('reset-password', 'fr', 'dev@example.test');
      await mailer.send(mail);
      expect(await mailer.deliverDue()).toBe(1);

      const outbox = join(dataDir, 'outbox');
      const files = readdirSync(outbox).sort();
      expect(files).toHaveLength(2);
      expect(files[0]!.replace(/\.html$/, '')).toBe(files[1]!.replace(/\.txt$/, ''));
      expect(readFileSync(join(outbox, files[0]!), 'utf8')).toContain(`href="${mail.values.link}"`);
      expect(readFileSync(join(outbox, files[1]!), 'utf8')).toContain(mail.values.link);

      const lines = logs.map((line) => JSON.parse(line)).filter((entry) => entry.level === 30);
      expect(lines).toEqual([
        expect.objectContaining({ to: 'dev@example.test', kind: 'reset-password', subject: 'Réinitialisez votre mot de passe Acme', file: join(outbox, files[0]!) }),
      ]);
      expect(standIn.requests).toHaveLength(0);
      expect(await rows()).toMatchObject([{ status: 'sent', html: '', text: '' }]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a malformed request before recording anything, without quoting its link', async () => {
    const mailer = mailerFor();
    const outside = `https://evil.test/reset?token=${token()}`;
    const refusals: MailRequest[] = [
      { kind: 'reset-password', to: 'a@example.test', locale: 'en', values: { link: outside } },
      { kind: 'reset-password', to: 'a@example.test', locale: 'en', values: {} },
      { kind: 'link-account', to: 'a@example.test', locale: 'en', values: { link: `${ISSUER}/link` } },
      { kind: 'reset-password', to: 'a@example.test\r\nBcc: b@example.test', locale: 'en', values: { link: resetLink() } },
      { kind: 'nope' as MailKind, to: 'a@example.test', locale: 'en', values: {} },
      { kind: 'security-change', to: 'a@example.test', locale: 'en', values: { change: 'constructor', accountLink: `${ISSUER}/account` } },
      { kind: 'security-change', to: 'a@example.test', locale: 'en', values: { change: 'totp-enabled', accountLink: outside } },
    ];
    for (const refused of refusals) {
      const error = await mailer.send(refused).then(() => undefined, (caught: Error) => caught);
      expect(error, refused.kind).toBeInstanceOf(Error);
      expect(error!.message).not.toContain('token=');
    }
    expect(await rows()).toEqual([]);
  });
});
