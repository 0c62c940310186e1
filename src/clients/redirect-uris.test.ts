import { describe, expect, it } from 'vitest';
import { classifyRedirectUri } from './redirect-uris.ts';

describe('classifyRedirectUri', () => {
  it.each([
    ['https://app.example.com/callback', 'https'],
    ['https://app.example.com:8443/oidc/cb?tenant=a', 'https'],
    ['https://xn--ssame-bsa.example/cb', 'https'],
    ['http://localhost:8080/callback', 'loopback'],
    ['http://127.0.0.1/callback', 'loopback'],
    ['http://127.0.0.1:51004/', 'loopback'],
    ['http://[::1]:3000/cb', 'loopback'],
    ['com.example.app:/oauth2redirect', 'private-use'],
    ['com.example.app:/cb?x=1', 'private-use'],
  ])('accepts %s as %s', (uri, kind) => {
    expect(classifyRedirectUri(uri)).toEqual({ kind });
  });

  it.each([
    ['https://app.example.com/cb#frag', /fragment/],
    ['https://app.example.com/cb#', /fragment/],
    ['https://*.example.com/cb', /wildcard/],
    ['https://app.example.com/*', /wildcard/],
    ['javascript:alert(1)', /scheme "javascript"/],
    ['JavaScript:alert(1)', /scheme "javascript"/],
    ['JAVASCRIPT://app.example.com/%0aalert(1)', /scheme "javascript"/],
    ['data:text/html,<script>alert(1)</script>', /scheme "data"/],
    ['DATA:text/html,hi', /scheme "data"/],
    ['vbscript:msgbox(1)', /scheme "vbscript"/],
    ['file:///etc/passwd', /scheme "file"/],
    ['myapp:/cb', /scheme "myapp"/],
    ['Com.Example.App:/cb', /scheme/],
    ['http://app.example.com/cb', /must use https/],
    ['http://localhost.evil.example/cb', /must use https/],
    ['http://127.0.0.1.nip.io/cb', /must use https/],
    ['https://user@app.example.com/cb', /user name or password/],
    ['https://user:secret@app.example.com/cb', /user name or password/],
    ['http://user@localhost/cb', /user name or password/],
    ['/callback', /not an absolute URL/],
    ['app.example.com/callback', /not an absolute URL/],
    ['https://app.example.com/c b', /white space/],
    ['https://app.example.com/cb\t', /white space/],
    ['https://app.example.com\\@evil.example/cb', /backslash/],
    [`https://app.example.com/${'a'.repeat(2000)}`, /longer than 2000/],
  ])('refuses %s', (uri, reason) => {
    const result = classifyRedirectUri(uri);
    expect(result).toHaveProperty('problem');
    expect((result as { problem: string }).problem).toMatch(reason);
  });
});
