// Small pieces shared by the admin commands.

/**
 * A command line that cannot be run as written (options that exclude each other, a value outside
 * a fixed list, a missing --yes): printed as is, exit code 2, like Commander's own mistakes.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A command that was understood but refused (no such account, a weak password, an invalid
 * address): printed as is, exit code 1, like a client definition that does not validate.
 */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** The values of an option that must come from a fixed list; another is a command-line mistake. */
export function choices<T extends string>(values: readonly string[], allowed: readonly T[], what: string): T[] {
  for (const value of values) if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`unknown ${what} "${value}": use ${allowed.join(', ')}`);
  return values as T[];
}

/** For repeatable options: --flag a --flag b → ['a', 'b']. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "90", "90s", "15m", "2h", "7d" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`"${text}" is not a duration: use for example 0, 90s, 15m, 2h or 7d`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
