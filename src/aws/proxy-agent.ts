/**
 * HTTPS through an HTTP proxy (CONNECT), honouring HTTPS_PROXY / NO_PROXY as curl and Go do. The
 * SDK for JavaScript ignores those variables; corporate runners cannot reach AWS without them.
 */
import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

export function proxyUrl(env: NodeJS.ProcessEnv): URL | undefined {
  const raw = env.HTTPS_PROXY || env.https_proxy || env.ALL_PROXY || env.all_proxy;
  if (!raw) return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

/** NO_PROXY: comma-separated hosts, `.suffix` or `suffix` domain matches, `*` for everything. */
export function bypassesProxy(host: string, env: NodeJS.ProcessEnv): boolean {
  const list = (env.NO_PROXY || env.no_proxy || '')
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return list.some((rule) => {
    if (rule === '*') return true;
    const bare = rule.replace(/^\*?\./, '').replace(/:\d+$/, '');
    return h === bare || h.endsWith(`.${bare}`);
  });
}

export interface ProxyAgentOptions extends AgentOptions {
  proxy: URL;
  env: NodeJS.ProcessEnv;
  connectTimeoutMs: number;
}

export class ConnectProxyAgent extends Agent {
  constructor(private readonly settings: ProxyAgentOptions) {
    super(settings);
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.hostname ?? options.host ?? 'localhost');
    const port = Number(options.port ?? 443);
    if (bypassesProxy(host, this.settings.env)) return super.createConnection(options, callback);
    this.tunnel(host, port, options).then(
      (socket) => callback?.(null, socket),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  private tunnel(host: string, port: number, options: RequestOptions): Promise<Duplex> {
    const { proxy, connectTimeoutMs } = this.settings;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: proxy.hostname, port: Number(proxy.port || 80) });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`proxy ${proxy.host} did not open a tunnel within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        const auth = proxy.username
          ? `Proxy-Authorization: Basic ${Buffer.from(
              `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`,
            ).toString('base64')}\r\n`
          : '';
        socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n${auth}\r\n`);
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 16 * 1024) fail(new Error('proxy sent an oversized response'));
          return;
        }
        socket.off('data', onData);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'));
        if (!status || status[1] !== '200') {
          fail(
            new Error(
              `proxy ${proxy.host} refused CONNECT ${host}:${port} (${status?.[1] ?? 'bad response'})`,
            ),
          );
          return;
        }
        clearTimeout(timer);
        socket.off('error', fail);
        const secure = tlsConnect({
          socket,
          servername: host,
          ca: this.options.ca,
          secureContext: this.options.secureContext,
          rejectUnauthorized: options.rejectUnauthorized ?? true,
        });
        resolve(secure);
      };
      socket.on('data', onData);
    });
  }
}
