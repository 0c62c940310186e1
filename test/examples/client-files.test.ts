// The examples' client files are valid client definitions that `clients sync` accepts, each
// with its own client id, and `clients sync` of the top-level clients/ directory never reads
// them (it reads only the *.json files directly in the directory it is given).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClientFiles } from '../../src/clients/sync.ts';

const EXAMPLES = join(import.meta.dirname, '../../clients/examples');
const examples = readdirSync(EXAMPLES, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);

describe('example client files', () => {
  it('are valid and name distinct client ids', () => {
    const ids = examples
      .filter((name) => existsSync(join(EXAMPLES, name, 'client.json')))
      .map((name) => {
        const files = readClientFiles(join(EXAMPLES, name));
        expect(files.map((file) => file.file)).toEqual(['client.json']);
        expect(files[0]!.definition.client_id).toMatch(/^example-/);
        return files[0]!.definition.client_id;
      });
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are not read by a sync of the top-level clients/ directory', () => {
    const ids = readClientFiles(join(EXAMPLES, '..')).map((file) => file.definition.client_id);
    expect(ids.filter((id) => id.startsWith('example-'))).toEqual([]);
  });
});
