// The development transport: with no SendGrid key, each message becomes an .html and a .txt file
// in DATA_DIR/outbox that a developer opens to follow the links. Nothing leaves the machine.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transport } from './transport.ts';

export function createOutboxTransport({ dir }: { dir: string }): Transport {
  return {
    name: 'outbox',
    async deliver(mail) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const base = join(dir, `${stamp}-${mail.id}-${mail.kind}`);
      await writeFile(`${base}.html`, mail.html, { mode: 0o600 });
      await writeFile(`${base}.txt`, mail.text, { mode: 0o600 });
      return { file: `${base}.html` };
    },
  };
}
