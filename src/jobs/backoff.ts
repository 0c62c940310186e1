/**
 * Exponential back-off for the work queues (e-mail, webhooks): `first` seconds after the first
 * failed attempt, twice as long after each further one, never more than `cap`.
 */
export function backoffSeconds(attempts: number, first: number, cap: number): number {
  return Math.min(first * 2 ** Math.max(attempts - 1, 0), cap);
}
