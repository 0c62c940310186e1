// Hardening headers on every response (RFC 9700 §4.16; OWASP ASVS V3.4). The CSP allows no
// inline script; oidc-provider adds a hash for the one form_post script it renders itself.
// No form-action directive: after a form POST the browser must be free to follow the redirect
// back to the relying app, and Chrome applies form-action to redirects too.
import type Koa from 'koa';

export function securityHeaders({ https }: { https: boolean }): Koa.Middleware {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const headers: Record<string, string> = {
    'Content-Security-Policy': csp,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    // same-origin keeps full referrers off other sites but lets our own forms carry an Origin.
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...(https ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  return (ctx, next) => {
    ctx.set(headers);
    return next();
  };
}
