// Serves an in-process PGlite on a Unix socket with the PostgreSQL wire protocol, so that another
// process (the admin CLI while the server runs) can use the same embedded database.
//
// PGlite has a single backend. Its own query() and transaction() calls are serialised by its
// transaction mutex; this server takes the same mutex, so that nothing from the socket runs
// inside an in-process transaction and the reverse. Each client's messages are executed as whole
// units — everything up to a Sync or a simple Query — so that two clients' extended-protocol
// messages never interleave (the unnamed statement and portal are shared by the one backend).
// A client that leaves a transaction open keeps the database to itself until it ends it.
import type { PGlite } from '@electric-sql/pglite';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
// Messages after which the client waits for answers: Sync, simple Query, Flush.
const BATCH_ENDS = new Set(['S', 'Q', 'H']);
const TERMINATE = 'X';

export interface WireServer {
  close(): Promise<void>;
}

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'ascii');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

export async function servePGlite(db: PGlite, path: string): Promise<WireServer> {
  const sockets = new Set<Socket>();

  const serve = (socket: Socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    let started = false;
    let batch: Uint8Array[] = [];
    let work: Promise<void> = Promise.resolve();
    // Set while this client has a transaction open: calling it lets everyone else in again.
    let releaseHold: (() => void) | undefined;

    const write = (data: Uint8Array) => {
      if (data.length && socket.writable) socket.write(data);
    };
    const execute = async (messages: Uint8Array[]) => {
      for (const message of messages) await db.execProtocolRawStream(message, { onRawData: write });
    };

    const run = async (messages: Uint8Array[]) => {
      if (releaseHold) {
        await db.runExclusive(() => execute(messages));
      } else {
        await new Promise<void>((resolve, reject) => {
          db._runExclusiveTransaction(async () => {
            try {
              await db.runExclusive(() => execute(messages));
            } catch (error) {
              reject(error);
              return;
            }
            if (!db.isInTransaction()) return resolve();
            // Keep the mutex past this batch, until the client ends its transaction.
            await new Promise<void>((release) => {
              releaseHold = release;
              resolve();
            });
          }).catch(reject);
        });
      }
      if (releaseHold && !db.isInTransaction()) {
        releaseHold();
        releaseHold = undefined;
      }
    };

    const end = async () => {
      if (releaseHold) {
        await db.runExclusive(() => db.execProtocolRaw(simpleQuery('ROLLBACK'))).catch(() => {});
        releaseHold();
        releaseHold = undefined;
      }
      sockets.delete(socket);
      socket.destroy();
    };

    const consume = async () => {
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          const code = buffer.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            buffer = buffer.subarray(8);
            write(Buffer.from('N'));
            continue;
          }
          if (code === CANCEL_REQUEST) return end();
          if (buffer.length < length) return;
          const startup = buffer.subarray(0, length);
          buffer = buffer.subarray(length);
          await run([startup]);
          started = true;
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0]!);
        const length = 1 + buffer.readInt32BE(1);
        if (buffer.length < length) return;
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (type === TERMINATE) return end();
        batch.push(message);
        if (BATCH_ENDS.has(type)) {
          const messages = batch;
          batch = [];
          await run(messages);
        }
      }
    };

    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      work = work.then(consume).catch(() => end());
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      work = work.then(end);
    });
  };

  const server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });

  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
