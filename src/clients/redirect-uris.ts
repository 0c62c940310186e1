// What an admin may register as a redirect or post-logout redirect URI (RFC 9700 §2.1, §4.1;
// RFC 8252 for native apps). The provider later compares them as exact strings.
import { isLoopbackHost } from '../http/loopback.ts';

// A private-use scheme must be a reverse domain name (RFC 8252 §7.1), e.g. com.example.app:/cb.
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;
const MAX_LENGTH = 2000;

export type RedirectUriKind = 'https' | 'loopback' | 'private-use';

/** The kind of a redirect URI, or a sentence saying why it cannot be registered. */
export function classifyRedirectUri(uri: string): { kind: RedirectUriKind } | { problem: string } {
  if (uri.length > MAX_LENGTH) return { problem: `is longer than ${MAX_LENGTH} characters` };
  if (/[\s\u0000-\u001f\u007f\\]/.test(uri)) return { problem: 'contains white space, a control character or a backslash' };
  if (uri.includes('#')) return { problem: 'must not contain a fragment (#)' };
  if (uri.includes('*')) return { problem: 'must not contain wildcards' };
  const url = URL.parse(uri);
  if (!url) return { problem: 'is not an absolute URL' };
  if (url.username || url.password) return { problem: 'must not contain a user name or password' };
  if (url.protocol === 'https:') {
    if (!url.hostname) return { problem: 'needs a host name' };
    return { kind: 'https' };
  }
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname)
      ? { kind: 'loopback' }
      : { problem: 'must use https (plain http is only allowed for localhost, 127.0.0.1 and [::1])' };
  }
  if (PRIVATE_USE_SCHEME.test(url.protocol) && uri.startsWith(url.protocol)) return { kind: 'private-use' };
  return { problem: `uses the scheme "${url.protocol.slice(0, -1)}": only https, loopback http and reverse-domain app schemes (com.example.app:/callback) are allowed` };
}
