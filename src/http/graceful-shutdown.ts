// Stopping without resetting a request that reached us. On SIGTERM the replica first says it is
// not ready (/readyz 503) and keeps serving for the drain period, so a load balancer stops sending
// it traffic; then it stops accepting connections, answers what it has with `Connection: close`,
// lets its connections go, stops its jobs and closes the database — within SHUTDOWN_TIMEOUT, or
// it gives up, says what was left, and the process exits 1.
import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../log.ts';

/**
 * A connection between two requests is closed only once it has been quiet this long: a keep-alive
 * client may be writing its next request on it right now, and closing under that request resets it.
 */
const QUIET_BEFORE_CLOSE_MS = 250;
/** A connection that has not sent its first request yet gets longer (as Go's http.Server does). */
const NEW_QUIET_BEFORE_CLOSE_MS = 5000;
const CHECK_EVERY_MS = 50;

export interface ConnectionTracker {
  /**
   * Stops accepting, then waits until every connection has been answered and closed. `patient`
   * (after a drain, clients still sending): a connection between requests is closed only once
   * quiet; otherwise (no one was told to stop sending: tests, scripts) at once.
   */
  close(patient: boolean): Promise<void>;
  /** What is still open: for the log line when the shutdown runs out of time. */
  open(): { connections: number; requests: number };
}

/** Follows the server's connections and their requests, so that close() can end them gracefully. */
export function trackConnections(server: Server): ConnectionTracker {
  const sockets = new Map<Socket, { requests: number; served: boolean; quietSince: number }>();
  const responses = new Set<ServerResponse>();
  let closing = false;

  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { requests: 0, served: false, quietSince: performance.now() });
    socket.once('close', () => sockets.delete(socket));
  });
  // First among the request listeners, before the app can write anything.
  server.prependListener('request', (_req, res: ServerResponse) => {
    const state = sockets.get(res.socket as Socket);
    if (state) {
      state.requests++;
      state.served = true;
    }
    responses.add(res);
    if (closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      responses.delete(res);
      if (state) {
        state.requests--;
        state.quietSince = performance.now();
      }
    });
  });

  // Quiet at two checks in a row, with a turn of the event loop between them: a request that
  // arrived while the loop was busy has been read by then, and is no longer quiet.
  let quietBefore = new Set<Socket>();
  const closeQuietConnections = (patient: boolean) => {
    const now = performance.now();
    const quiet = new Set<Socket>();
    for (const [socket, state] of sockets) {
      if (state.requests) continue;
      if (!patient) socket.destroy();
      else if (now - state.quietSince < (state.served ? QUIET_BEFORE_CLOSE_MS : NEW_QUIET_BEFORE_CLOSE_MS)) continue;
      else if (quietBefore.has(socket)) socket.destroy();
      else quiet.add(socket);
    }
    quietBefore = quiet;
  };

  return {
    close(patient) {
      closing = true;
      // Responses not yet started say Connection: close and end their connection once sent.
      for (const res of responses) if (!res.headersSent) res.shouldKeepAlive = false;
      return new Promise((resolve) => {
        // net's close, not http's: http's also destroys every connection idle at this instant,
        // including one whose next request is on its way.
        NetServer.prototype.close.call(server, () => {
          clearInterval(timer);
          resolve();
        });
        const timer = setInterval(() => closeQuietConnections(patient), CHECK_EVERY_MS);
        if (!patient) closeQuietConnections(false);
      });
    },
    open: () => ({ connections: sockets.size, requests: responses.size }),
  };
}

export interface ShutdownStep {
  name: string;
  run(): Promise<void>;
}

export interface ShutdownOptions {
  lifecycle: { draining: boolean };
  drainSeconds: number;
  timeoutSeconds: number;
  /** In order, after the drain: e.g. the HTTP server and jobs, then the database. */
  steps: ShutdownStep[];
  /** What is still open, logged if the time runs out. */
  leftOver(): Record<string, unknown>;
  log: Logger;
}

/** Runs the whole sequence; resolves true when everything closed in time (exit 0), false otherwise. */
export async function shutDown({ lifecycle, drainSeconds, timeoutSeconds, steps, leftOver, log }: ShutdownOptions): Promise<boolean> {
  lifecycle.draining = true;
  log.info({ drainSeconds, timeoutSeconds }, 'shutting down: not ready any more, still serving during the drain');
  let step = 'drain';
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutSeconds * 1000);
  });
  const sequence = (async () => {
    await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000));
    for (const next of steps) {
      step = next.name;
      await next.run();
    }
    return true as const;
  })();
  try {
    const done = await Promise.race([sequence, outOfTime]);
    if (done) log.info('shut down cleanly');
    else log.error({ step, ...leftOver() }, `shutdown did not finish within SHUTDOWN_TIMEOUT (${timeoutSeconds} s)`);
    return done;
  } catch (error) {
    log.error({ err: error, step }, 'shutdown failed');
    return false;
  } finally {
    clearTimeout(timer);
  }
}
