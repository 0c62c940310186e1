// How a recorded message leaves: SendGrid in production, files in the development outbox. A
// transport delivers one message or throws; the queue decides what a failure means. What a failure
// says is kept short and secret-free, as it is stored and logged (an HTTP client's error carries
// the request, API key included).

export interface OutgoingMail {
  readonly id: bigint;
  readonly kind: string;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface Transport {
  readonly name: 'sendgrid' | 'outbox';
  /** Resolves once the message is handed over, with details worth logging (never its body). */
  deliver(mail: OutgoingMail): Promise<Record<string, string>>;
}

export class DeliveryTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'DeliveryTimeout';
  }
}

/** Fails after `ms` whatever the underlying request does (a server can keep a socket alive for ever). */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeliveryTimeout(ms)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function describeDeliveryError(error: unknown): string {
  const { code, message, response } = (error ?? {}) as { code?: unknown; message?: unknown; response?: { body?: unknown } };
  if (typeof code === 'number') {
    const body = response?.body as { errors?: { message?: unknown }[] } | undefined;
    const detail = body?.errors?.[0]?.message;
    return `SendGrid answered ${code}${typeof detail === 'string' ? `: ${detail}` : ''}`.slice(0, 300);
  }
  const text = typeof message === 'string' ? message : String(error);
  return (typeof code === 'string' ? `${code}: ${text}` : text).slice(0, 300);
}
