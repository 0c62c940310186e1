import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig, readEnvironment } from './config.ts';
import type { Env } from './config.ts';

function problemsOf(env: Env): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the settings to be refused');
}

describe('loadConfig', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('starts with safe defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      host: '127.0.0.1',
      issuer: 'http://localhost:3000',
      database: { dataDir: resolve('./data') },
      trustProxy: false,
      brandName: 'Sésame',
      logLevel: 'info',
      ttl: {
        accessToken: 3600,
        idToken: 3600,
        authorizationCode: 60,
        clientCredentials: 600,
        refreshTokenIdle: 14 * 86400,
        refreshTokenAbsolute: 90 * 86400,
        session: 12 * 3600,
        interaction: 3600,
      },
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1, maxConcurrency: 4 },
      clientCacheTtl: 5,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.ttl)).toBe(true);
  });

  it('follows the issuer, the port and the database it is given', () => {
    const config = loadConfig({ ISSUER: 'https://id.example.com/', PORT: '8080', DATABASE_URL: 'postgres://u@db.example/sesame', TRUST_PROXY: 'yes' });
    expect(config.issuer).toBe('https://id.example.com');
    expect(config.port).toBe(8080);
    expect(config.database).toEqual({ url: 'postgres://u@db.example/sesame' });
    expect(config.trustProxy).toBe(true);
    expect(loadConfig({ PORT: '4000' }).issuer).toBe('http://localhost:4000');
  });

  it('reports every problem at once, cross-setting ones included', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db.example/sesame',
      TRUST_PROXY: 'maybe',
      ACCESS_TOKEN_TTL: '0',
      AUTHORIZATION_CODE_TTL: '3600',
      NODE_ENV: 'production',
      ISSUER: 'http://id.example.com',
      REFRESH_TOKEN_IDLE_TTL: '100',
      REFRESH_TOKEN_ABSOLUTE_TTL: '10',
    });
    const keys = problems.map((problem) => problem.split(':')[0]).sort();
    expect(keys).toEqual([
      'ACCESS_TOKEN_TTL',
      'AUTHORIZATION_CODE_TTL',
      'DATABASE_URL',
      'ISSUER',
      'PORT',
      'REFRESH_TOKEN_IDLE_TTL',
      'TRUST_PROXY',
    ]);
    expect(problems).toContain('TRUST_PROXY: must be true or false');
    expect(problems).toContain('AUTHORIZATION_CODE_TTL: must be at most 600 (RFC 9700)');
  });

  it('names every problem in its message, one per line', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(/Invalid configuration:\n {2}- PORT: .*\n {2}- LOG_LEVEL: /);
  });

  it('refuses a plain-http issuer in production, except on localhost', () => {
    expect(problemsOf({ NODE_ENV: 'production', ISSUER: 'http://id.example.com' })).toEqual([
      'ISSUER: must be https:// in production (plain http is only allowed for localhost)',
    ]);
    for (const issuer of ['https://id.example.com', 'http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000']) {
      expect(loadConfig({ NODE_ENV: 'production', ISSUER: issuer }).issuer).toBe(issuer);
    }
    expect(loadConfig({ NODE_ENV: 'development', ISSUER: 'http://id.example.com' }).issuer).toBe('http://id.example.com');
  });

  it('refuses an issuer that is not an http(s) URL, or has a query or a fragment', () => {
    expect(problemsOf({ ISSUER: 'ftp://id.example.com' })).toEqual(['ISSUER: must be an http(s) URL']);
    expect(problemsOf({ ISSUER: 'https://id.example.com/?tenant=1' })).toEqual(['ISSUER: must not have a query or a fragment']);
    expect(problemsOf({ ISSUER: 'https://id.example.com/#x' })).toEqual(['ISSUER: must not have a query or a fragment']);
  });

  it('refuses a refresh-token idle lifetime longer than the absolute one', () => {
    expect(problemsOf({ REFRESH_TOKEN_IDLE_TTL: '7200', REFRESH_TOKEN_ABSOLUTE_TTL: '3600' })).toEqual([
      'REFRESH_TOKEN_IDLE_TTL: must not exceed REFRESH_TOKEN_ABSOLUTE_TTL',
    ]);
    expect(problemsOf({ REFRESH_TOKEN_IDLE_TTL: String(100 * 86400) })).toEqual([
      'REFRESH_TOKEN_IDLE_TTL: must not exceed REFRESH_TOKEN_ABSOLUTE_TTL',
    ]);
    expect(loadConfig({ REFRESH_TOKEN_IDLE_TTL: '3600', REFRESH_TOKEN_ABSOLUTE_TTL: '3600' }).ttl.refreshTokenIdle).toBe(3600);
  });

  it('refuses a shutdown drain that leaves no time to finish, and a pool too small for the cleanup', () => {
    expect(problemsOf({ SHUTDOWN_DRAIN_SECONDS: '30' })).toEqual([
      'SHUTDOWN_DRAIN_SECONDS: must be less than SHUTDOWN_TIMEOUT (requests in flight need time to finish after the drain)',
    ]);
    expect(loadConfig({ SHUTDOWN_DRAIN_SECONDS: '20', SHUTDOWN_TIMEOUT: '40' }).shutdown).toEqual({ drainSeconds: 20, timeoutSeconds: 40 });
    expect(problemsOf({ DATABASE_POOL_SIZE: '1' })).toEqual(['DATABASE_POOL_SIZE: must be at least 2 (the cleanup holds one connection for its lock and works on another)']);
    expect(problemsOf({ METRICS_TOKEN: 'short' })).toEqual(['METRICS_TOKEN: must have at least 16 characters']);
  });

  it('refuses at start a company colour whose button text would fail WCAG AA contrast', () => {
    // Google's yellow under white text.
    expect(problemsOf({ BRAND_PRIMARY_COLOR: '#fbbc05' })).toEqual([
      'BRAND_PRIMARY_COLOR: button text in #ffffff on #fbbc05 has a contrast of 1.71:1, below the 4.5:1 WCAG AA asks for: ' +
        'choose a darker colour, or set BRAND_PRIMARY_TEXT_COLOR (e.g. #000000)',
    ]);
    // #777777 on white is 4.48:1, just under the line; #767676 is 4.54:1, just over it.
    expect(problemsOf({ BRAND_PRIMARY_COLOR: '#777' })[0]).toMatch(/^BRAND_PRIMARY_COLOR: .* contrast of 4\.48:1, below the 4\.5:1/);
    expect(loadConfig({ BRAND_PRIMARY_COLOR: '#767676' }).brand.colors).toEqual({ primary: '#767676', text: '#ffffff' });
    expect(loadConfig({ BRAND_PRIMARY_COLOR: '#FBBC05', BRAND_PRIMARY_TEXT_COLOR: '#000000' }).brand.colors).toEqual({ primary: '#fbbc05', text: '#000000' });
    expect(problemsOf({ BRAND_PRIMARY_COLOR: 'blue', BRAND_PRIMARY_TEXT_COLOR: '#ggg' })).toEqual([
      'BRAND_PRIMARY_COLOR: must be a hex colour like #0b57d0',
      'BRAND_PRIMARY_TEXT_COLOR: must be a hex colour like #ffffff',
    ]);
  });

  it('takes a logo as an https URL or an image file, and footer links as https URLs', () => {
    dir = mkdtempSync(join(tmpdir(), 'sesame-logo-'));
    writeFileSync(join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(dir, 'logo.gif'), 'GIF89a');
    const config = loadConfig({
      BRAND_LOGO_URL: join(dir, 'logo.svg'),
      BRAND_SUPPORT_URL: 'mailto:help@example.com',
      BRAND_PRIVACY_URL: 'https://example.com/privacy',
    });
    expect(config.brand).toEqual({
      logo: { file: join(dir, 'logo.svg'), type: 'image/svg+xml' },
      links: { support: 'mailto:help@example.com', privacy: 'https://example.com/privacy' },
    });
    expect(loadConfig({ BRAND_LOGO_URL: 'https://cdn.example.com/logo.png' }).brand.logo).toEqual({ url: 'https://cdn.example.com/logo.png' });
    expect(loadConfig({}).brand).toEqual({ links: {} });
    expect(problemsOf({ BRAND_LOGO_URL: 'http://cdn.example.com/logo.png', BRAND_TERMS_URL: 'http://example.com/terms' })).toEqual([
      'BRAND_TERMS_URL: must be an https:// URL',
      'BRAND_LOGO_URL: must be an https:// URL or the path of a .png, .svg or .webp file',
    ]);
    expect(problemsOf({ BRAND_LOGO_URL: join(dir, 'logo.gif') })).toEqual(['BRAND_LOGO_URL: a logo file must be a .png, .svg or .webp image']);
    expect(problemsOf({ BRAND_LOGO_URL: join(dir, 'missing.png') })).toEqual([`BRAND_LOGO_URL: no file at ${join(dir, 'missing.png')}`]);
  });

  it('refuses argon2 settings below the OWASP floor', () => {
    expect(problemsOf({ ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '0' }).map((p) => p.split(':')[0])).toEqual([
      'ARGON2_MEMORY_KIB',
      'ARGON2_TIME_COST',
    ]);
  });
});

describe('readEnvironment', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.unstubAllEnvs();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads .env from the working directory, the environment winning over the file', () => {
    dir = mkdtempSync(join(tmpdir(), 'sesame-env-'));
    writeFileSync(join(dir, '.env'), ['# settings', 'PORT=4100', 'BRAND_NAME="Acme ID"', 'LOG_LEVEL=warn', ''].join('\n'));
    vi.stubEnv('LOG_LEVEL', 'error');
    vi.stubEnv('PORT', undefined);
    vi.stubEnv('BRAND_NAME', undefined);

    const env = readEnvironment(dir);
    expect(env).toMatchObject({ PORT: '4100', BRAND_NAME: 'Acme ID', LOG_LEVEL: 'error' });
    const config = loadConfig(env);
    expect(config).toMatchObject({ port: 4100, brandName: 'Acme ID', logLevel: 'error', issuer: 'http://localhost:4100' });
  });

  it('is the environment alone when there is no .env', () => {
    dir = mkdtempSync(join(tmpdir(), 'sesame-env-'));
    vi.stubEnv('BRAND_NAME', 'From the environment');
    expect(readEnvironment(dir).BRAND_NAME).toBe('From the environment');
  });
});
