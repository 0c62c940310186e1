// Serves the single-page app: its files, oidc-client-ts's browser build and the two settings it
// needs. Any static file server does the same; this one keeps the example self-contained.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';

export interface Config {
  issuer: string;
  clientId: string;
}

const PUBLIC = join(import.meta.dirname, 'public');
// The library's browser build (a script defining the global `oidc`), straight from node_modules.
const VENDOR = join(dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json')), 'dist/browser/oidc-client-ts.min.js');
const FILES: Record<string, string> = {
  '/': join(PUBLIC, 'index.html'),
  '/callback.html': join(PUBLIC, 'callback.html'),
  '/app.js': join(PUBLIC, 'app.js'),
  '/auth.js': join(PUBLIC, 'auth.js'),
  '/vendor/oidc-client-ts.min.js': VENDOR,
};
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

export function createApp(config: Config) {
  const settings = JSON.stringify({ issuer: config.issuer, clientId: config.clientId });
  return async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    if (path === '/config.json') return res.writeHead(200, { 'content-type': 'application/json' }).end(settings);
    const file = FILES[path];
    if (!file || req.method !== 'GET') return res.writeHead(404).end('Not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
  };
}

if (import.meta.main) {
  const { ISSUER, CLIENT_ID = 'example-spa', PORT = '3003' } = process.env;
  if (!ISSUER) throw new Error('set ISSUER');
  createServer(createApp({ issuer: ISSUER, clientId: CLIENT_ID })).listen(Number(PORT), () => console.log(`SPA example on http://localhost:${PORT}`));
}
