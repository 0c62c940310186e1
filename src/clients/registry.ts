// The relying apps Sésame knows: what the admin CLI manages and what the provider looks up on
// every request (briefly cached, so a change reaches every replica within CLIENT_CACHE_TTL).
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { AdapterPayload } from 'oidc-provider';
import type { Prisma } from '../db/database.ts';
import { clientDefinitionSchema, providerMetadata, storedClientSchema } from './definition.ts';
import type { ClientDefinition, ClientDefinitionInput } from './definition.ts';
import { generateClientSecret, hashClientSecret } from './secrets.ts';
import { createLookupCache } from '../db/lookup-cache.ts';
import { revokedClient } from '../oidc/provider-rows.ts';

export interface ClientRecord {
  clientId: string;
  definition: ClientDefinition;
  source: string;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface RegistryOptions {
  cacheTtlSeconds: number;
  /** Extra validation of the final metadata (the provider's own client schema). */
  validateMetadata?: (metadata: AdapterPayload) => Promise<void>;
  /** NODE_ENV=production: development clients are neither registered nor served. */
  production?: boolean;
}

interface Row {
  id: string;
  definition: unknown;
  secretHash: string | null;
  source: string;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The `source` of a client Sésame registers itself at start-up (the account page): the admin may not change it. */
export const BUILT_IN = 'built-in';

function toRecord(row: Row): ClientRecord {
  return {
    clientId: row.id,
    definition: storedClientSchema.parse(row.definition),
    source: row.source,
    disabled: row.disabledAt !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function newClientId(name: string): string {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `${slug || 'client'}-${randomBytes(4).toString('hex')}`;
}

export function createClientRegistry(prisma: Prisma, options: RegistryOptions) {
  const cache = createLookupCache<AdapterPayload | undefined>(options.cacheTtlSeconds);

  async function findRow(clientId: string): Promise<Row> {
    const row = await prisma.client.findUnique({ where: { id: clientId } });
    if (!row) throw new ClientError(`no client with id "${clientId}"`);
    return row;
  }

  async function findChangeable(clientId: string): Promise<Row> {
    const row = await findRow(clientId);
    if (row.source === BUILT_IN) throw new ClientError(`"${clientId}" is built into Sésame (the account page): it cannot be changed, disabled or removed`);
    return row;
  }

  async function validate(clientId: string, definition: ClientDefinition, secretHash: string | null) {
    if (definition.development && options.production) {
      throw new ClientError('a client marked for development (loopback redirect URIs for a confidential app) is refused with NODE_ENV=production');
    }
    await options.validateMetadata?.(providerMetadata(clientId, definition, secretHash) as AdapterPayload);
  }

  return {
    async add(input: ClientDefinitionInput, source = 'cli'): Promise<{ client: ClientRecord; secret?: string }> {
      const definition = clientDefinitionSchema.parse(input);
      const clientId = definition.client_id ?? newClientId(definition.client_name);
      const secret = definition.public ? undefined : generateClientSecret();
      const secretHash = secret ? hashClientSecret(secret) : null;
      const stored = { ...definition, client_id: clientId };
      await validate(clientId, stored, secretHash);
      try {
        const row = await prisma.client.create({ data: { id: clientId, definition: stored, secretHash, source } });
        return { client: toRecord(row), secret };
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') throw new ClientError(`a client with id "${clientId}" already exists`);
        throw error;
      }
    },

    async update(clientId: string, input: ClientDefinitionInput): Promise<{ client: ClientRecord; secret?: string }> {
      const row = await findChangeable(clientId);
      const definition = clientDefinitionSchema.parse({ ...input, client_id: clientId });
      // A client that becomes confidential needs a secret; one that becomes public loses it.
      const secret = !definition.public && !row.secretHash ? generateClientSecret() : undefined;
      const secretHash = definition.public ? null : secret ? hashClientSecret(secret) : row.secretHash;
      await validate(clientId, definition, secretHash);
      const updated = await prisma.client.update({ where: { id: clientId }, data: { definition, secretHash } });
      cache.delete(clientId);
      return { client: toRecord(updated), secret };
    },

    /** Throws what add() or update() would throw for this definition, and writes nothing. */
    async check(input: ClientDefinitionInput): Promise<void> {
      const definition = clientDefinitionSchema.parse(input);
      const clientId = definition.client_id ?? newClientId(definition.client_name);
      await validate(clientId, { ...definition, client_id: clientId }, definition.public ? null : hashClientSecret(generateClientSecret()));
    },

    async get(clientId: string): Promise<ClientRecord> {
      return toRecord(await findRow(clientId));
    },

    async list(): Promise<ClientRecord[]> {
      return (await prisma.client.findMany({ orderBy: { createdAt: 'asc' } })).map(toRecord);
    },

    async rotateSecret(clientId: string): Promise<string> {
      const row = await findChangeable(clientId);
      if (!row.secretHash) throw new ClientError(`"${clientId}" is a public client: it has no secret`);
      const secret = generateClientSecret();
      await prisma.client.update({ where: { id: clientId }, data: { secretHash: hashClientSecret(secret) } });
      cache.delete(clientId);
      return secret;
    },

    async setDisabled(clientId: string, disabled: boolean): Promise<ClientRecord> {
      await findChangeable(clientId);
      const row = await prisma.client.update({ where: { id: clientId }, data: { disabledAt: disabled ? new Date() : null } });
      cache.delete(clientId);
      return toRecord(row);
    },

    /** Removes the client and every token, code and grant issued to it. */
    async remove(clientId: string): Promise<void> {
      await findChangeable(clientId);
      await prisma.$transaction([
        revokedClient(prisma, clientId),
        prisma.client.delete({ where: { id: clientId } }),
      ]);
      cache.delete(clientId);
    },

    /**
     * Registers, or brings up to date, a client Sésame itself relies on (source `built-in`):
     * written at every start, so a changed ISSUER moves its redirect URIs too. A client of that
     * id an admin registered is left alone, and said.
     */
    async ensureBuiltIn(input: ClientDefinitionInput): Promise<void> {
      const definition = { ...clientDefinitionSchema.parse(input) };
      const clientId = definition.client_id!;
      await validate(clientId, definition, null);
      const existing = await prisma.client.findUnique({ where: { id: clientId } });
      if (existing && existing.source !== BUILT_IN) throw new ClientError(`a client "${clientId}" registered by an admin takes the id Sésame's account page needs: remove it (\`clients remove ${clientId}\`)`);
      if (existing && isDeepStrictEqual(existing.definition, definition) && !existing.disabledAt && !existing.secretHash) return;
      await prisma.client
        .upsert({
          where: { id: clientId },
          create: { id: clientId, definition, secretHash: null, source: BUILT_IN },
          update: { definition, secretHash: null, disabledAt: null },
        })
        .catch((error: unknown) => {
          // Another replica starting at the same moment wrote it first.
          if ((error as { code?: string }).code !== 'P2002') throw error;
        });
      cache.delete(clientId);
    },

    /** What the provider sees: metadata of an enabled client, or undefined. */
    async providerMetadata(clientId: string): Promise<AdapterPayload | undefined> {
      return cache.get(clientId, async () => {
        const row = await prisma.client.findUnique({ where: { id: clientId } });
        const definition = row && !row.disabledAt ? storedClientSchema.parse(row.definition) : undefined;
        if (!definition || (definition.development && options.production)) return undefined;
        const metadata = providerMetadata(row!.id, definition, row!.secretHash) as AdapterPayload;
        // The account page's redirect URI is this server itself, even on a loopback ISSUER: not a
        // native app, whose loopback redirect another program could catch (always asked, RFC 8252 §8.6).
        return row!.source === BUILT_IN ? { ...metadata, application_type: 'web' } : metadata;
      });
    },

    /** Enabled clients marked for development (which production refuses to serve). */
    async enabledDevelopmentClients(): Promise<string[]> {
      const rows = await prisma.client.findMany({ where: { disabledAt: null }, orderBy: { createdAt: 'asc' } });
      return rows.filter((row) => storedClientSchema.parse(row.definition).development).map((row) => row.id);
    },
  };
}

export type ClientRegistry = ReturnType<typeof createClientRegistry>;
