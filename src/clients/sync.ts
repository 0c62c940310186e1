// `clients sync`: makes the registered clients match the JSON files of a directory (one file per
// relying app, its client_id taken from the file name unless the file names one). Files are all
// validated before anything is written; secrets are never in files, new confidential clients get
// one generated and shown once.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { clientDefinitionSchema } from './definition.ts';
import type { ClientDefinition } from './definition.ts';
import type { ClientRegistry } from './registry.ts';
import { ClientError } from './registry.ts';

export interface ClientFile {
  file: string;
  definition: ClientDefinition & { client_id: string };
}

export type SyncAction =
  | { action: 'create'; clientId: string; file: string; secret?: string }
  | { action: 'update'; clientId: string; file: string; secret?: string }
  | { action: 'unchanged'; clientId: string; file: string }
  | { action: 'remove'; clientId: string; file: string }
  | { action: 'orphaned'; clientId: string; file: string };

export function readClientFiles(dir: string): ClientFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  } catch {
    throw new ClientError(`cannot read the directory ${dir}`);
  }
  const problems: string[] = [];
  const files: ClientFile[] = [];
  for (const name of names) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch (error) {
      problems.push(`${name}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    const withId = typeof json === 'object' && json !== null && !('client_id' in json) ? { ...json, client_id: basename(name, '.json') } : json;
    const parsed = clientDefinitionSchema.safeParse(withId);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${name}: ${issue.path.join('.') || '(file)'}: ${issue.message}`);
      continue;
    }
    files.push({ file: name, definition: parsed.data as ClientFile['definition'] });
  }
  const seen = new Map<string, string>();
  for (const { file, definition } of files) {
    const other = seen.get(definition.client_id);
    if (other) problems.push(`${file}: client_id "${definition.client_id}" is also used by ${other}`);
    seen.set(definition.client_id, file);
  }
  if (problems.length) throw new ClientError(`invalid client files, nothing was changed:\n  ${problems.join('\n  ')}`);
  return files;
}

export async function syncClients(registry: ClientRegistry, files: ClientFile[], { prune = false, dryRun = false } = {}): Promise<SyncAction[]> {
  const existing = new Map((await registry.list()).map((client) => [client.clientId, client]));
  const actions: SyncAction[] = [];
  for (const { file, definition } of files) {
    const current = existing.get(definition.client_id);
    const source = `file:${file}`;
    if (current && current.source !== source) {
      throw new ClientError(`${file}: a client "${definition.client_id}" already exists and was not created from this file (source: ${current.source})`);
    }
    if (!current) actions.push({ action: 'create', clientId: definition.client_id, file });
    else if (isDeepStrictEqual(current.definition, definition)) actions.push({ action: 'unchanged', clientId: definition.client_id, file });
    else actions.push({ action: 'update', clientId: definition.client_id, file });
  }
  const inFiles = new Set(files.map((file) => file.definition.client_id));
  for (const client of existing.values()) {
    if (client.source.startsWith('file:') && !inFiles.has(client.clientId)) {
      actions.push({ action: prune ? 'remove' : 'orphaned', clientId: client.clientId, file: client.source.slice(5) });
    }
  }
  // The provider's own checks too, before anything is written: a sync applies whole or not at all.
  const byId = new Map(files.map((file) => [file.definition.client_id, file]));
  const problems: string[] = [];
  for (const item of actions) {
    if (item.action !== 'create' && item.action !== 'update') continue;
    await registry.check(byId.get(item.clientId)!.definition).catch((error: unknown) => {
      if (!(error instanceof ClientError)) throw error;
      problems.push(`${item.file}: ${error.message}`);
    });
  }
  if (problems.length) throw new ClientError(`invalid client files, nothing was changed:\n  ${problems.join('\n  ')}`);
  if (dryRun) return actions;

  for (const item of actions) {
    if (item.action === 'create') {
      const { definition, file } = byId.get(item.clientId)!;
      item.secret = (await registry.add(definition, `file:${file}`)).secret;
    } else if (item.action === 'update') {
      item.secret = (await registry.update(item.clientId, byId.get(item.clientId)!.definition)).secret;
    } else if (item.action === 'remove') {
      await registry.remove(item.clientId);
    }
  }
  return actions;
}
