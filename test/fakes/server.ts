// Shared plumbing for the loopback fakes: every fake listens on 127.0.0.1 only, and close() must
// finish even while a client is stuck on a deliberately hung request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const LOOPBACK = '127.0.0.1';

export interface Lifecycle {
  /** Resolves once the port (or socket file) is released; never waits for clients. */
  close(): Promise<void>;
  /** Aborted on close, so delayed handlers stop waiting and nothing keeps the event loop alive. */
  readonly signal: AbortSignal;
}

/**
 * Starts tracking sockets before listen so that close() can destroy keep-alive and hung connections;
 * server.close() alone waits for them forever. CONNECT tunnels hand their sockets to us too, which
 * http's own closeAllConnections() would not see.
 */
export function manage(server: Server, extraSockets?: Set<Socket>): Lifecycle {
  const sockets = new Set<Socket>();
  const controller = new AbortController();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let closing: Promise<void> | undefined;
  return {
    signal: controller.signal,
    close() {
      closing ??= new Promise<void>((resolve) => {
        controller.abort();
        server.close(() => resolve());
        for (const socket of [...sockets, ...(extraSockets ?? [])]) socket.destroy();
      });
      return closing;
    },
  };
}

export async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Waits, but gives up quietly when the server closes; returns false if it was closed meanwhile. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
