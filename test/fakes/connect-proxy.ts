// Forward proxy for HTTPS_PROXY tests. It records which host:port a client asked to reach, which
// proves the endpoint a process would call (FIPS, dual-stack, region) without real network access:
// tunnels only ever lead to a loopback upstream chosen by the test, whatever the client asked for.
import { createServer, request, type IncomingMessage } from 'node:http';
import { Agent, type RequestOptions } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { headerValue, listenLoopback, LOOPBACK, manage } from './server';

export interface ConnectRecord {
  /** Request target exactly as sent, e.g. "api.ecr.us-west-2.amazonaws.com:443". */
  target: string;
  host: string;
  port: number;
  proxyAuthorization: string | undefined;
  userAgent: string | undefined;
  /** True if a tunnel to the upstream was opened, false if the proxy answered 502. */
  tunnelled: boolean;
}

export interface ProxiedRequest {
  method: string | undefined;
  /** Absolute-form URL of a plain-HTTP proxied request. */
  url: string | undefined;
  host: string | undefined;
  proxyAuthorization: string | undefined;
}

export interface ConnectProxyOptions {
  /** Loopback server that every tunnel leads to; without it CONNECT gets 502. */
  upstream?: { host?: '127.0.0.1'; port: number };
}

export interface ConnectProxy {
  /** Value for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  port: number;
  connects: ConnectRecord[];
  requests: ProxiedRequest[];
  setUpstream(upstream: ConnectProxyOptions['upstream']): void;
  close(): Promise<void>;
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  let upstream = checkUpstream(options.upstream);
  const connects: ConnectRecord[] = [];
  const requests: ProxiedRequest[] = [];
  // Upstream sockets are ours, not the server's, so close() must be told about them.
  const upstreamSockets = new Set<Socket>();

  // Plain-HTTP proxying is never forwarded: there is nowhere safe to forward it to.
  const server = createServer((req, res) => {
    requests.push({
      method: req.method,
      url: req.url,
      host: req.headers.host,
      proxyAuthorization: headerValue(req.headers['proxy-authorization']),
    });
    res.writeHead(502, { 'Content-Type': 'text/plain', Connection: 'close' });
    res.end('fake proxy: plain HTTP forwarding is disabled\n');
  });
  const lifecycle = manage(server, upstreamSockets);

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = req.url ?? '';
    const colon = target.lastIndexOf(':');
    const record: ConnectRecord = {
      target,
      host: colon < 0 ? target : target.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
      port: colon < 0 ? 443 : Number(target.slice(colon + 1)),
      proxyAuthorization: headerValue(req.headers['proxy-authorization']),
      userAgent: req.headers['user-agent'],
      tunnelled: false,
    };
    connects.push(record);
    client.on('error', () => client.destroy());

    const current = upstream;
    if (!current) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const remote = connect(current.port, LOOPBACK);
    upstreamSockets.add(remote);
    remote.once('close', () => {
      upstreamSockets.delete(remote);
      client.destroy();
    });
    client.once('close', () => remote.destroy());
    remote.once('error', () => {
      if (!record.tunnelled)
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    remote.once('connect', () => {
      record.tunnelled = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) remote.write(head);
      remote.pipe(client);
      client.pipe(remote);
    });
  });

  const port = await listenLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connects,
    requests,
    setUpstream(next) {
      upstream = checkUpstream(next);
    },
    close: lifecycle.close,
  };
}

function checkUpstream(upstream: ConnectProxyOptions['upstream']): ConnectProxyOptions['upstream'] {
  if (upstream && (upstream.host ?? LOOPBACK) !== LOOPBACK) {
    throw new Error(`fake proxy upstream must be ${LOOPBACK}, got ${String(upstream.host)}`);
  }
  return upstream;
}

/**
 * An https.Agent that reaches every host through CONNECT on a loopback proxy, for driving in-process
 * clients (e.g. the SDK's `requestHandler: { httpsAgent }`) at their default AWS endpoints. `ca` is
 * the only trust root, so a tunnel can only ever end at a server holding the test certificate.
 */
export function createTunnelAgent(proxy: { port: number }, tls: { ca: string | Buffer }): Agent {
  return new TunnelAgent(proxy.port, tls.ca);
}

class TunnelAgent extends Agent {
  constructor(
    private readonly proxyPort: number,
    private readonly ca: string | Buffer,
  ) {
    super({ keepAlive: false });
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    // Node's own agent reports failures with no stream; @types/node's signature cannot express that.
    const fail = (err: Error): void => (callback as ((err: Error) => void) | undefined)?.(err);
    const host = options.hostname ?? options.host ?? 'localhost';
    const target = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 443}`;
    const connectReq = request({
      host: LOOPBACK,
      port: this.proxyPort,
      method: 'CONNECT',
      path: target,
      headers: { host: target },
      agent: false,
    });
    connectReq.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(new Error(`proxy refused CONNECT ${target}: ${res.statusCode}`));
        return;
      }
      const servername = (options as { servername?: string }).servername || host;
      callback?.(null, tlsConnect({ socket, servername, ca: this.ca, ALPNProtocols: ['http/1.1'] }));
    });
    connectReq.once('error', fail);
    connectReq.end();
    return undefined;
  }
}
