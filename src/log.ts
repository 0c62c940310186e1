// Structured logs (JSON lines on stdout, ISO times). Secrets never reach them: known
// secret-bearing fields are redacted wherever they appear, and the request log names route
// templates, never paths, query strings or bodies (http/request-log.ts).
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

const REDACTED_FIELDS = [
  'password',
  'newPassword',
  'client_secret',
  'clientSecret',
  'secret',
  'code',
  'code_verifier',
  'refresh_token',
  'access_token',
  'id_token',
  'id_token_hint',
  'logout_token',
  'client_assertion',
  'passwordHash',
  'accessToken',
  'refreshToken',
  'token',
  'authorization',
  'cookie',
];

export function createLogger({ level = 'info', destination }: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'sesame' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
        censor: '[redacted]',
      },
    },
    destination,
  );
}
