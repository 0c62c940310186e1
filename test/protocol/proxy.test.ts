// Behind a TLS-terminating proxy (checklist 26, 50, 58): with TRUST_PROXY the forwarded https is
// believed, so every cookie is Secure (CSRF under the __Host- prefix) and HSTS is sent, while
// discovery and links always follow ISSUER. Without TRUST_PROXY, the forwarded headers change
// nothing and the operator is warned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.ts';
import { RP, startFixture } from '../support/fixture.ts';
import type { Fixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

const PUBLIC = 'https://login.example.test';
const FROM_PROXY = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-forwarded-for': '203.0.113.5' };

/** The authorization request and the login page, as the proxy passes them on. */
async function firstPages(f: Fixture) {
  const browser = new Browser(f.issuer, FROM_PROXY);
  const auth = await browser.request(
    `${f.issuer}/auth?${new URLSearchParams({
      client_id: f.web.id,
      redirect_uri: `${RP}/cb`,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'proxy',
    })}`,
  );
  const location = auth.headers.get('location')!;
  const login = await browser.request(`${f.issuer}${new URL(location, PUBLIC).pathname}`);
  return { auth, login };
}

describe.each(STORES)('behind a TLS proxy on %s', (kind) => {
  describe('with TRUST_PROXY', () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await startFixture(kind, { ISSUER: PUBLIC, TRUST_PROXY: 'true' });
      // Requests go to the listener; the proxy in front of it is played by the headers.
      (f as { issuer: string }).issuer = `http://127.0.0.1:${f.server.config.port}`;
    });
    afterAll(() => f?.stop());

    it('advertises https endpoints under ISSUER, whatever host the request named', async () => {
      const response = await fetch(`${f.issuer}/.well-known/openid-configuration`, { headers: FROM_PROXY });
      const meta = (await response.json()) as Record<string, unknown>;
      expect(meta.issuer).toBe(PUBLIC);
      for (const [name, value] of Object.entries(meta)) {
        if (name.endsWith('_endpoint') || name === 'jwks_uri') expect(value, name).toMatch(/^https:\/\/login\.example\.test\//);
      }
    });

    it('marks every cookie Secure, HttpOnly and SameSite=Lax, puts the CSRF cookie under __Host-, and sends HSTS', async () => {
      const { auth, login } = await firstPages(f);
      const cookies = [...auth.headers.getSetCookie(), ...login.headers.getSetCookie()];
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) {
        const attributes = cookie.toLowerCase();
        expect(attributes, cookie).toContain('; secure');
        expect(attributes, cookie).toContain('httponly');
        expect(attributes, cookie).toContain('samesite=lax');
      }
      expect(cookies.some((cookie) => cookie.startsWith('__Host-sesame-csrf=') && cookie.includes('path=/;'))).toBe(true);
      expect(login.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
    });
  });

  describe('without TRUST_PROXY', () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await startFixture(kind, { ISSUER: PUBLIC, TRUST_PROXY: 'false' });
      (f as { issuer: string }).issuer = `http://127.0.0.1:${f.server.config.port}`;
    });
    afterAll(() => f?.stop());

    it('ignores forwarded headers (no Secure cookie is claimed over http) and tells the operator why', async () => {
      const { login } = await firstPages(f);
      expect(login.status).toBe(200);
      for (const cookie of login.headers.getSetCookie()) expect(cookie.toLowerCase()).not.toContain('; secure');
      expect(f.server.logs.some((line) => line.includes('set TRUST_PROXY=true'))).toBe(true);
    });
  });
});
