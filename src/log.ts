// Structured logs (JSON lines on stdout). Secrets never reach them: known secret-bearing fields
// are redacted wherever they appear, and request logs carry paths, never query strings.
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
  'token',
  'authorization',
  'cookie',
];

export function createLogger({ level = 'info', destination }: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'sesame' },
      redact: {
        paths: REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
        censor: '[redacted]',
      },
    },
    destination,
  );
}
