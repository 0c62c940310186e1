// npm run webhooks:outage [-- --events 500 --outage 10 --replicas 2 --down 503|refuse]
// Webhook delivery through an endpoint outage, measured from outside: Sésame (with `replicas`
// delivery workers on one database) announces `events` new accounts while the receiving
// endpoint is down (answering 503, or refusing connections) for `outage` seconds; then it comes
// back. The receiver verifies every request with the standardwebhooks library and counts what
// it accepted. Prints events sent, delivered, duplicated (a webhook-id accepted more than once),
// the attempts the outage cost and the time to drain once the endpoint is back.
// DATABASE_URL set: on that PostgreSQL (use a scratch database); otherwise a fresh embedded store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { loadConfig, readEnvironment } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import type { Database } from '../src/db/database.ts';
import { createLogger } from '../src/log.ts';
import { createSesame } from '../src/server.ts';
import type { Sesame } from '../src/server.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500' },
    outage: { type: 'string', default: '10' },
    replicas: { type: 'string', default: '2' },
    down: { type: 'string', default: '503' },
  },
});
const count = Number(args.events);
const outageSeconds = Number(args.outage);
const replicas = Number(args.replicas);
const refuse = args.down === 'refuse';
const databaseUrl = readEnvironment().DATABASE_URL;
const dataDir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'sesame-outage-'));
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

// The receiving app: verifies, then counts each webhook-id it accepted.
let down = true;
let secret = '';
const accepted = new Map<string, number>();
let requests = 0;
let rejectedSignatures = 0;
const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    requests++;
    if (down) {
      res.statusCode = 503;
      return res.end();
    }
    try {
      new Webhook(secret).verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>);
    } catch {
      rejectedSignatures++;
      res.statusCode = 400;
      return res.end();
    }
    const id = req.headers['webhook-id'] as string;
    accepted.set(id, (accepted.get(id) ?? 0) + 1);
    res.statusCode = 204;
    res.end();
  });
};
const listen = (server: Server, port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
let receiver = createServer(handler);
await listen(receiver, 0);
const port = (receiver.address() as { port: number }).port;
if (refuse) await new Promise((resolve) => receiver.close(resolve));

const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
  PORT: '0',
  WEBHOOK_RETRY_DELAY: '1',
  WEBHOOK_MAX_ATTEMPTS: '30',
  WEBHOOK_TIMEOUT: '5',
});
const log = createLogger({ level: 'silent' });
const databases: Database[] = [];
const servers: Sesame[] = [];
for (let i = 0; i < replicas; i++) {
  // The embedded store has one owner: its replicas share the connection; PostgreSQL replicas each get a pool.
  const db = databases[0] && !databaseUrl ? databases[0] : await openDatabase(config.database, { migrate: true });
  if (!databases.includes(db)) databases.push(db);
  servers.push(await createSesame({ config, db, log }));
}
const [first] = servers as [Sesame];
const prisma = databases[0]!.prisma;
const endpoint = await first.webhooks.addEndpoint({ url: `http://127.0.0.1:${port}/hooks`, events: ['user.created'] });
secret = endpoint.secret;

const started = performance.now();
const run = randomBytes(4).toString('hex');
for (let i = 0; i < count; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => servers[(i + j) % replicas]!.users.create({ email: `outage-${run}-${i + j}@example.com` })));
}
const recorded = performance.now();
console.log(`${count} events recorded in ${elapsed(started)} while the endpoint is down (${refuse ? 'refusing connections' : 'answering 503'})`);

while (performance.now() - started < outageSeconds * 1000) await new Promise((resolve) => setTimeout(resolve, 100));
const requestsDuringOutage = requests;
down = false;
if (refuse) {
  receiver = createServer(handler);
  await listen(receiver, port);
}
const recovered = performance.now();
console.log(`endpoint back after ${elapsed(started)}`);

const pending = () => prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: 'pending' } });
while ((await pending()) > 0) {
  if (performance.now() - recovered > 600_000) throw new Error('not drained after ten minutes');
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const drainedAfter = elapsed(recovered);

const statuses = await prisma.webhookDelivery.groupBy({ by: ['status'], where: { endpointId: endpoint.id }, _count: true, _sum: { attempts: true }, _max: { attempts: true } });
const byStatus = Object.fromEntries(statuses.map((row) => [row.status, row._count]));
const attempts = statuses.reduce((sum, row) => sum + (row._sum.attempts ?? 0), 0);
const maxAttempts = Math.max(...statuses.map((row) => row._max.attempts ?? 0));
const duplicated = [...accepted.values()].filter((times) => times > 1).length;

const figures: [string, string | number][] = [
  ['events sent (recorded)', count],
  ['delivered (2xx)', byStatus.delivered ?? 0],
  ['failed (given up)', byStatus.failed ?? 0],
  ['distinct webhook-ids accepted', accepted.size],
  ['duplicated (accepted > once)', duplicated],
  ['signatures rejected', rejectedSignatures],
  ['requests during the outage', `${requestsDuringOutage}${refuse ? ' (refused connections not counted)' : ''}`],
  ['attempts in all', `${attempts} (at most ${maxAttempts} for one delivery)`],
  ['time to record the events', `${((recorded - started) / 1000).toFixed(1)} s`],
  ['drained after recovery in', drainedAfter],
];
console.log(`\nWebhook delivery through a ${outageSeconds} s endpoint outage (${replicas} replica${replicas === 1 ? '' : 's'}, ${databaseUrl ? 'PostgreSQL' : 'embedded store'}, WEBHOOK_RETRY_DELAY=1)`);
for (const [label, value] of figures) console.log(`  ${`${label}:`.padEnd(32)}${value}`);

for (const server of servers) await server.close();
for (const db of databases) await db.close();
if (!refuse || receiver.listening) receiver.close();
if (dataDir) rmSync(dataDir, { recursive: true, force: true });
process.exit(byStatus.failed || duplicated || accepted.size !== count ? 1 : 0);
