// One delivery attempt, as Standard Webhooks describes it: the payload POSTed as JSON with
// webhook-id (the event's id, the same on every retry), webhook-timestamp (now: a receiver
// rejects signatures older than a few minutes, so each retry is signed again) and
// webhook-signature, made by the standardwebhooks library so that receivers verify with it, or
// with svix's, unchanged. Redirects are never followed: an endpoint answers itself or fails.
import { Webhook } from 'standardwebhooks';

export interface Attempt {
  url: string;
  /** `whsec_…` in the clear. */
  secret: string;
  id: string;
  body: string;
  timeoutSeconds: number;
  userAgent: string;
}

/** A delivery that did not succeed: `status` when the endpoint answered, but not 2xx. */
export class DeliveryFailure extends Error {
  readonly status: number | null;

  constructor(message: string, status: number | null = null) {
    super(message);
    this.name = 'DeliveryFailure';
    this.status = status;
  }
}

/** Resolves with the 2xx status, or throws a DeliveryFailure. */
export async function sendWebhook({ url, secret, id, body, timeoutSeconds, userAgent }: Attempt): Promise<number> {
  const now = new Date();
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
      headers: {
        'content-type': 'application/json',
        'user-agent': userAgent,
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(id, now, body),
      },
      body,
    });
  } catch (error) {
    throw new DeliveryFailure(describeError(error));
  }
  // The answer's body is of no use; drain it so the connection can be reused.
  await response.body?.cancel().catch(() => {});
  if (response.status >= 200 && response.status < 300) return response.status;
  throw new DeliveryFailure(`HTTP ${response.status}${response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''}`, response.status);
}

function describeError(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'no answer in time';
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(error);
}
