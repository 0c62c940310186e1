// Delivery through SendGrid's v3 API, on a client of our own (never the module-wide singleton, so
// nothing else in the process can change its key or address). Tracking is turned off: click
// tracking would route single-use links through SendGrid's redirector, and the others add
// third-party pixels and links to messages that should only point at the issuer.
import sendgridClient from '@sendgrid/client';
import sendgridMail from '@sendgrid/mail';
import type { Transport } from './transport.ts';
import { withDeadline } from './transport.ts';

// Both packages export a ready-made singleton whose class rides along at runtime (index.js sets
// `module.exports.Client` / `.MailService`) but is missing from their ESM-facing typings.
const { Client } = sendgridClient as unknown as { Client: new () => typeof sendgridClient };
const { MailService } = sendgridMail as unknown as { MailService: new () => typeof sendgridMail };

export interface SendGridSettings {
  readonly apiKey: string;
  /** Base URL, https://api.sendgrid.com unless tests point it at a stand-in. */
  readonly apiUrl: string;
  readonly from: string;
  readonly timeoutSeconds: number;
}

export function createSendGridTransport({ apiKey, apiUrl, from, timeoutSeconds }: SendGridSettings): Transport {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', `${apiUrl}/`);
  const service = new MailService();
  service.setClient(client);
  service.setTimeout(timeoutSeconds * 1000);

  return {
    name: 'sendgrid',
    async deliver(mail): Promise<Record<string, string>> {
      const request = service.send({
        to: mail.to,
        from,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        customArgs: { mailId: String(mail.id), kind: mail.kind },
        trackingSettings: {
          clickTracking: { enable: false, enableText: false },
          openTracking: { enable: false },
          subscriptionTracking: { enable: false },
        },
      });
      // The client's timeout is per socket inactivity; this bounds the whole exchange.
      const [response] = await withDeadline(request, timeoutSeconds * 1000 + 500);
      const messageId: unknown = response.headers['x-message-id'];
      return typeof messageId === 'string' ? { sendgridId: messageId } : {};
    },
  };
}
