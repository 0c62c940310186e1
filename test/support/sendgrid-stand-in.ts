// A loopback stand-in for SendGrid's v3 API, so the real @sendgrid/mail client is exercised over
// real HTTP. It records every POST /v3/mail/send (headers and JSON body) and answers as told:
// 202 (succeed), 500 (fail), or never (hang, until the client gives up or the stand-in closes).
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'node-html-parser';
import type { Prisma } from '../../src/db/database.ts';

export type Behaviour = 'succeed' | 'fail' | 'hang';

export interface RecordedMail {
  headers: IncomingHttpHeaders;
  body: {
    personalizations: { to: { email: string; name?: string }[] }[];
    from: { email: string; name?: string };
    subject: string;
    content: { type: string; value: string }[];
    custom_args?: Record<string, string>;
    tracking_settings?: Record<string, { enable?: boolean; enable_text?: boolean }>;
  };
  /** What the stand-in answered. */
  behaviour: Behaviour;
}

/** A message as a person reads it. */
export interface Mail {
  to: string;
  kind: string;
  subject: string;
  text: string;
  html: string;
  /** Every address the message links to, in its HTML and its plain text. */
  links: string[];
  /** The single-use link (confirm an address, choose a password, link a sign-in), if it has one. */
  link?: string;
  token?: string;
}

export function readMail(body: RecordedMail['body']): Mail {
  const text = body.content.find((part) => part.type === 'text/plain')?.value ?? '';
  const html = body.content.find((part) => part.type === 'text/html')?.value ?? '';
  const hrefs = parse(html).querySelectorAll('[href], [src]').map((element) => element.getAttribute('href') ?? element.getAttribute('src')!);
  const links = [...hrefs, ...(text.match(/https?:\/\/[^\s"'<>]+/g) ?? [])];
  const link = links.find((url) => /\/account\/(verify|reset|link)\?token=/.test(url));
  return {
    to: body.personalizations[0]!.to[0]!.email,
    kind: body.custom_args?.kind ?? '',
    subject: body.subject,
    text,
    html,
    links,
    link,
    token: link ? (new URL(link).searchParams.get('token') ?? undefined) : undefined,
  };
}

/** Waits until the server's mail queue has nothing pending (every message reached the stand-in). */
export async function untilMailSent(prisma: Prisma): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await prisma.mailMessage.count({ where: { status: 'pending' } })) === 0) return;
    await sleep(25);
  }
  throw new Error('e-mail still queued after 5 s');
}

export interface SendGridStandIn {
  /** Base URL for SENDGRID_API_URL. */
  url: string;
  requests: RecordedMail[];
  /** Answers the next requests in this order, then falls back to `otherwise`. */
  script(...behaviours: Behaviour[]): void;
  otherwise: Behaviour;
  /** Waits this long before answering (succeed or fail), to make deliveries overlap. */
  delayMs: number;
  /** Forgets requests and behaviours, and drops any hanging request. */
  reset(): void;
  close(): Promise<void>;
}

export async function startSendGridStandIn(): Promise<SendGridStandIn> {
  let scripted: Behaviour[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v3/mail/send') {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"message":"not found"}]}');
        return;
      }
      const behaviour = scripted.shift() ?? standIn.otherwise;
      standIn.requests.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), behaviour });
      if (behaviour === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      setTimeout(() => {
        if (behaviour === 'fail') {
          res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"errors":[{"message":"stand-in outage"}]}');
        } else {
          res.writeHead(202, { 'X-Message-Id': `stand-in-${standIn.requests.length}` }).end();
        }
      }, standIn.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const dropHanging = () => {
    for (const res of hanging) res.destroy();
    hanging.clear();
  };
  const standIn: SendGridStandIn = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    otherwise: 'succeed',
    delayMs: 0,
    script: (...behaviours) => {
      scripted = behaviours;
    },
    reset() {
      dropHanging();
      scripted = [];
      standIn.requests = [];
      standIn.otherwise = 'succeed';
      standIn.delayMs = 0;
    },
    async close() {
      dropHanging();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standIn;
}
