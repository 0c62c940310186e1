// Sign-ins and rate-limit refusals are counted where they are recorded: every sign-in, whichever
// way it came (password, Google, linking an account), and every refusal by an abuse limit leaves
// exactly one entry in the audit trail. Counting there keeps the routes free of metrics, and the
// numbers agree with `admin audit list`.
import type { AuditEntry, AuditTrail } from '../audit/trail.ts';
import type { Metrics } from './metrics.ts';

/** The limits a sign-in attempt meets before its password is checked (http/rate-limits.ts). */
const SIGN_IN_LIMITS = new Set(['login-ip', 'login-device', 'login-account']);

function count(metrics: Metrics, { action, details }: AuditEntry): void {
  const method = typeof details?.method === 'string' ? details.method : 'password';
  if (action === 'sign-in.succeeded') metrics.signIn(method, 'success');
  else if (action === 'sign-in.failed') metrics.signIn(method, 'failure');
  else if (action === 'rate-limit.refused') {
    const limit = typeof details?.limit === 'string' ? details.limit : 'other';
    metrics.rateLimitRefused(limit);
    if (SIGN_IN_LIMITS.has(limit)) metrics.signIn('password', 'locked');
  }
}

/** `audit`, counting in `metrics` what it records. */
export function countingAuditTrail(audit: AuditTrail, metrics: Metrics): AuditTrail {
  return {
    record(entry) {
      count(metrics, entry);
      audit.record(entry);
    },
    async write(entry) {
      await audit.write(entry);
      count(metrics, entry);
    },
    settled: () => audit.settled(),
  };
}
