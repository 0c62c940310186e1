// A person's browser without JavaScript: a cookie jar, redirects followed by hand, and forms
// submitted as the HTML describes them. It never fetches the relying app's redirect URI: the
// navigation stops there and returns that URL (with the code or the error on it).
import { parse } from 'node-html-parser';
import type { HTMLElement } from 'node-html-parser';
import { CookieJar } from 'tough-cookie';

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  doc: HTMLElement;
  /** Set when the navigation stopped at a URL outside the server (the relying app). */
  stoppedAt?: string;
}

export class Browser {
  readonly jar = new CookieJar();
  /** Every response status seen on the way, in order (to check 303 versus 307). */
  readonly trail: { url: string; status: number }[] = [];

  readonly origin: string;
  readonly headers: Record<string, string>;
  /** Other sites the browser follows redirects to (an upstream identity provider's stand-in). */
  readonly alsoFollows: string[] = [];

  constructor(origin: string, headers: Record<string, string> = {}) {
    this.origin = origin;
    // What a browser sends on navigation: some endpoints answer JSON to anything else.
    this.headers = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', ...headers };
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = await this.jar.getCookieString(url);
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...this.headers, ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
    });
    for (const header of response.headers.getSetCookie()) await this.jar.setCookie(header, url, { ignoreError: true });
    this.trail.push({ url, status: response.status });
    return response;
  }

  /** GET `url` and follow redirects while they stay on the server. */
  async open(url: string, init: RequestInit = {}): Promise<Page> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; response.status >= 300 && response.status < 400; hops++) {
      if (hops > 20) throw new Error('too many redirects');
      const next = new URL(response.headers.get('location')!, current).href;
      if (!this.follows(next)) return this.page(current, response, next);
      current = next;
      response = await this.request(current);
    }
    return this.page(current, response);
  }

  /** Submits the form that contains `fields`' names (or matches `selector`), like pressing its button. */
  async submit(page: Page, fields: Record<string, string>, { selector = 'form', button }: { selector?: string; button?: { name: string; value: string } } = {}): Promise<Page> {
    const forms = page.doc.querySelectorAll(selector);
    const form = forms.find((candidate) => Object.keys(fields).every((name) => candidate.querySelector(`[name="${name}"]`))) ?? forms[0];
    if (!form) throw new Error(`no form on ${page.url}:\n${page.body}`);
    const body = new URLSearchParams();
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      if (name && !(name in fields)) body.set(name, input.getAttribute('value') ?? '');
    }
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    if (button) body.set(button.name, button.value);
    const action = new URL(form.getAttribute('action') ?? page.url, page.url).href;
    const response = await this.request(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(action).origin },
      body,
    });
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location')!, action).href;
      if (!this.follows(next)) return this.page(action, response, next);
      return this.open(next);
    }
    return this.page(action, response);
  }

  private follows(url: string): boolean {
    return [this.origin, ...this.alsoFollows].some((origin) => url.startsWith(`${origin}/`) || url === origin);
  }

  private async page(url: string, response: Response, stoppedAt?: string): Promise<Page> {
    const body = await response.text();
    return { url, status: response.status, headers: response.headers, body, doc: parse(body), stoppedAt };
  }
}
