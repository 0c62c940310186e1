// Turns a mail request into the subject, HTML and plain text that are recorded and sent, from the
// nunjucks templates in views/emails/. HTML is autoescaped (a name can hold markup); the plain-text
// version is not, as text/plain has nothing to escape and entities would show as typed.
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { viewsDir } from '../http/views.ts';
import { composeMail } from './compose.ts';
import type { MailRequest } from './index.ts';

export interface RenderedMail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export type MailRenderer = (request: MailRequest) => RenderedMail;

export function createMailRenderer({ brand, issuer }: { brand: string; issuer: string }): MailRenderer {
  const loader = () => new nunjucks.FileSystemLoader(join(viewsDir, 'emails'));
  const html = new nunjucks.Environment(loader(), { autoescape: true, throwOnUndefined: true });
  const text = new nunjucks.Environment(loader(), { autoescape: false, throwOnUndefined: true });
  return (request) => {
    const view = composeMail(request, { brand, issuer });
    return {
      subject: view.subject,
      html: html.render('message.html.njk', view),
      text: `${text.render('message.txt.njk', view).trim()}\n`,
    };
  };
}
