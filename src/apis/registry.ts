// The APIs (resource servers, RFC 8707) Sésame issues access tokens for: what the admin CLI
// manages, and what the provider looks up whenever a request names a `resource` (briefly cached,
// so a change reaches every replica within CLIENT_CACHE_TTL).
import { z } from 'zod';
import type { Prisma } from '../db/database.ts';
import { createLookupCache } from '../db/lookup-cache.ts';
import { isLoopbackHost } from '../http/loopback.ts';
import { OIDC_SCOPES, SESAME_API_SCOPES } from '../oidc/scopes.ts';

export class ApiRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiRegistrationError';
  }
}

const RESERVED_SCOPES = new Set<string>([...OIDC_SCOPES, ...SESAME_API_SCOPES]);

/** RFC 8707 §2: an absolute URI without a fragment (and, as it recommends, without a query). */
const resourceIndicator = z
  .string()
  .trim()
  .max(200)
  .superRefine((id, ctx) => {
    const url = URL.parse(id);
    const problem = !url
      ? 'must be an absolute URI, for example https://orders.example.com'
      : url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))
        ? 'must use https (http only for localhost or 127.0.0.1)'
        : id.includes('#')
          ? 'must not have a fragment (RFC 8707 §2)'
          : url.search || id.includes('?')
            ? 'must not have a query (RFC 8707 §2)'
            : url.username || url.password
              ? 'must not carry a user name or password'
              : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(id)} ${problem}` });
  });

const apiScope = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9:._/-]{0,63}$/, 'a scope is 1 to 64 letters, digits, ":", ".", "_", "/" or "-", without spaces')
  .refine((scope) => !RESERVED_SCOPES.has(scope), { error: (issue) => `"${issue.input}" is one of Sésame's own scopes` });

const clientId = z.string().min(1).max(64);

export const apiInputSchema = z
  .object({
    id: resourceIndicator,
    name: z.string().trim().min(1, 'must not be empty').max(100),
    scopes: z.array(apiScope).default([]),
    clientIds: z.array(clientId).default([]),
    serverClientId: clientId.nullable().default(null),
    /** Seconds; null: ACCESS_TOKEN_TTL (CLIENT_CREDENTIALS_TTL for client credentials). */
    accessTokenTtl: z.number().int().min(60, 'must be at least 60 seconds').max(86_400, 'must be at most one day').nullable().default(null),
  })
  .strict()
  .transform((api) => ({ ...api, scopes: [...new Set(api.scopes)], clientIds: [...new Set(api.clientIds)] }));

export type ApiInput = z.input<typeof apiInputSchema>;
export type ApiDefinition = z.output<typeof apiInputSchema>;
export interface ApiRecord extends ApiDefinition {
  createdAt: Date;
  updatedAt: Date;
}

export function createApiRegistry(prisma: Prisma, options: { cacheTtlSeconds: number }) {
  const cache = createLookupCache<ApiRecord | undefined>(options.cacheTtlSeconds);

  async function findRow(id: string): Promise<ApiRecord> {
    const row = await prisma.api.findUnique({ where: { id } });
    if (!row) throw new ApiRegistrationError(`no API with id "${id}"`);
    return row;
  }

  const clientsOf = (api: ApiDefinition) => [...api.clientIds, ...(api.serverClientId ? [api.serverClientId] : [])];

  /**
   * Clients newly named must exist (one removed since it was named may stay listed, harmlessly);
   * a newly named server client must be able to authenticate (have a secret) to introspect.
   */
  async function checkClients(api: ApiDefinition, before?: ApiDefinition) {
    const named = new Set(before ? clientsOf(before) : []);
    const server = api.serverClientId !== before?.serverClientId ? api.serverClientId : null;
    const ids = [...new Set([...clientsOf(api).filter((id) => !named.has(id)), ...(server ? [server] : [])])];
    const rows = await prisma.client.findMany({ where: { id: { in: ids } }, select: { id: true, secretHash: true } });
    const known = new Map(rows.map((row) => [row.id, row]));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) throw new ApiRegistrationError(`no client with id ${unknown.map((id) => `"${id}"`).join(', ')}`);
    if (server && !known.get(server)!.secretHash) {
      throw new ApiRegistrationError(`"${server}" is a public client: an API introspects tokens as a confidential client`);
    }
  }

  /** Changes what is given; the id stays. */
  async function update(id: string, changes: Partial<Omit<ApiInput, 'id'>>): Promise<ApiRecord> {
    const { createdAt: _c, updatedAt: _u, ...current } = await findRow(id);
    const { id: _id, ...data } = apiInputSchema.parse({ ...current, ...changes, id });
    await checkClients({ id, ...data }, current);
    const row = await prisma.api.update({ where: { id }, data });
    cache.delete(id);
    return row;
  }

  return {
    async add(input: ApiInput): Promise<ApiRecord> {
      const api = apiInputSchema.parse(input);
      await checkClients(api);
      try {
        const row = await prisma.api.create({ data: api });
        cache.delete(api.id);
        return row;
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') throw new ApiRegistrationError(`an API with id "${api.id}" already exists`);
        throw error;
      }
    },

    update,

    /** Lets `clientId` ask for tokens for the API (nothing changes if it already may). */
    async allow(id: string, clientId: string): Promise<ApiRecord> {
      const current = await findRow(id);
      return update(id, { clientIds: [...current.clientIds, clientId] });
    },

    /** The client's tokens already issued for the API stay valid until they expire. */
    async deny(id: string, clientId: string): Promise<ApiRecord> {
      const current = await findRow(id);
      if (!current.clientIds.includes(clientId)) throw new ApiRegistrationError(`"${clientId}" is not allowed for "${id}"`);
      return update(id, { clientIds: current.clientIds.filter((other) => other !== clientId) });
    },

    get: findRow,

    async list(): Promise<ApiRecord[]> {
      return prisma.api.findMany({ orderBy: { createdAt: 'asc' } });
    },

    async remove(id: string): Promise<void> {
      await findRow(id);
      await prisma.api.delete({ where: { id } });
      cache.delete(id);
    },

    /** What the provider sees: the API, or undefined (cached, unknown ids included). */
    async find(id: string): Promise<ApiRecord | undefined> {
      return cache.get(id, async () => (await prisma.api.findUnique({ where: { id } })) ?? undefined);
    },
  };
}

export type ApiRegistry = ReturnType<typeof createApiRegistry>;
