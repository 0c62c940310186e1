// This machine itself, as a URL's `hostname` names it: where plain http stays acceptable (a
// development issuer, a native app's redirect per RFC 8252, a receiver beside the server).
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}
