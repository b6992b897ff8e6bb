import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { createTunnelAgent, startConnectProxy, type ConnectProxy } from './connect-proxy';
import { startFakeEcr, type FakeEcr } from './ecr';
import { makeTestCa, type TestCa } from './tls';

const KEY = 'AKIDFAKEPROXYTEST001';
const SECRET = 'proxy/secret/for/tests/only/00000000000';
const credentials = { accessKeyId: KEY, secretAccessKey: SECRET };

let caDir: string;
let ca: TestCa;
beforeAll(async () => {
  caDir = await mkdtemp(join(tmpdir(), 'ca-'));
  ca = await makeTestCa(caDir);
});
afterAll(async () => {
  await rm(caDir, { recursive: true, force: true });
});

let stops: Array<{ close(): Promise<void> } | { destroy(): void }> = [];
afterEach(async () => {
  await Promise.all(stops.map((s) => ('close' in s ? s.close() : s.destroy())));
  stops = [];
});
function track<T extends { close(): Promise<void> } | { destroy(): void }>(thing: T): T {
  stops.push(thing);
  return thing;
}

async function tlsEcrBehindProxy(): Promise<{ ecr: FakeEcr; proxy: ConnectProxy }> {
  const ecr = track(
    await startFakeEcr({ tls: { key: ca.key, cert: ca.cert }, credentials: { [KEY]: SECRET } }),
  );
  const proxy = track(await startConnectProxy({ upstream: { port: ecr.port } }));
  return { ecr, proxy };
}

/** Opens a CONNECT tunnel by hand and returns the raw socket, or the refusing status. */
function openTunnel(proxy: ConnectProxy, target: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: target, agent: false })
      .once('connect', (res, socket) => resolve({ status: res.statusCode ?? 0, socket }))
      .once('error', reject)
      .end();
  });
}

describe('makeTestCa', () => {
  it('issues a server certificate for the requested names, trusted through the CA only', async () => {
    expect(ca.caCert).toContain('BEGIN CERTIFICATE');
    expect(ca.key).toContain('PRIVATE KEY');
    const ecr = track(
      await startFakeEcr({ tls: { key: ca.key, cert: ca.cert }, credentials: { [KEY]: SECRET } }),
    );
    expect(ecr.url).toBe(`https://127.0.0.1:${ecr.port}`);

    const trusting = track(
      new ECRClient({
        region: 'us-west-2',
        endpoint: ecr.url,
        credentials,
        requestHandler: { httpsAgent: new Agent({ ca: ca.caCert }) },
      }),
    );
    await trusting.send(new GetAuthorizationTokenCommand({}));
    expect(ecr.calls[0]).toMatchObject({ verified: true, status: 200, servername: undefined });

    const untrusting = track(
      new ECRClient({ region: 'us-west-2', endpoint: ecr.url, credentials, maxAttempts: 1 }),
    );
    await expect(untrusting.send(new GetAuthorizationTokenCommand({}))).rejects.toThrow(/certificate/);
    expect(ecr.calls).toHaveLength(1);
  });
});

describe('CONNECT proxy', () => {
  it('tunnels a hand-made HTTPS request to the loopback upstream, whatever host was asked for', async () => {
    const { ecr, proxy } = await tlsEcrBehindProxy();
    const { status, socket } = await openTunnel(proxy, 'api.ecr.us-west-2.amazonaws.com:443');
    expect(status).toBe(200);

    const response = await new Promise<{ status: number; body: string; errorType: unknown }>(
      (resolve, reject) => {
        const req = httpsRequest(
          {
            host: 'api.ecr.us-west-2.amazonaws.com',
            port: 443,
            method: 'POST',
            path: '/',
            headers: {
              host: 'api.ecr.us-west-2.amazonaws.com',
              'content-type': 'application/x-amz-json-1.1',
              'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
            },
            createConnection: () =>
              tlsConnect({ socket, servername: 'api.ecr.us-west-2.amazonaws.com', ca: ca.caCert }),
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body, errorType: res.headers['x-amzn-errortype'] }),
            );
          },
        );
        req.on('error', reject);
        req.end('{}');
      },
    );

    // Unsigned, so the fake refuses it: proof enough that the bytes crossed the tunnel intact.
    expect(response).toMatchObject({ status: 403, errorType: 'MissingAuthenticationTokenException' });
    expect(JSON.parse(response.body)).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    expect(proxy.connects).toEqual([
      expect.objectContaining({
        target: 'api.ecr.us-west-2.amazonaws.com:443',
        host: 'api.ecr.us-west-2.amazonaws.com',
        port: 443,
        tunnelled: true,
      }),
    ]);
    expect(ecr.calls[0]).toMatchObject({
      host: 'api.ecr.us-west-2.amazonaws.com',
      servername: 'api.ecr.us-west-2.amazonaws.com',
    });
  });

  it('shows which endpoint the real SDK calls: regional, FIPS, dual-stack, ECR Public', async () => {
    const { ecr, proxy } = await tlsEcrBehindProxy();
    const agent = createTunnelAgent(proxy, { ca: ca.caCert });
    const client = (config: Partial<ConstructorParameters<typeof ECRClient>[0]>): ECRClient =>
      track(new ECRClient({ credentials, maxAttempts: 1, requestHandler: { httpsAgent: agent }, ...config }));

    await client({ region: 'us-west-2' }).send(new GetAuthorizationTokenCommand({}));
    await client({ region: 'us-east-1', useFipsEndpoint: true }).send(new GetAuthorizationTokenCommand({}));
    await client({ region: 'us-west-2', useDualstackEndpoint: true }).send(
      new GetAuthorizationTokenCommand({}),
    );
    await client({ region: 'us-east-2', useFipsEndpoint: true, useDualstackEndpoint: true }).send(
      new GetAuthorizationTokenCommand({}),
    );
    const publicClient = track(
      new ECRPUBLICClient({
        region: 'us-east-1',
        credentials,
        maxAttempts: 1,
        requestHandler: { httpsAgent: agent },
      }),
    );
    await publicClient.send(new GetPublicTokenCommand({}));

    // Note the FIPS name: api.ecr-fips.<region>, not ecr-fips.<region>.
    const expected = [
      'api.ecr.us-west-2.amazonaws.com',
      'api.ecr-fips.us-east-1.amazonaws.com',
      'ecr.us-west-2.api.aws',
      'ecr-fips.us-east-2.api.aws',
      'api.ecr-public.us-east-1.amazonaws.com',
    ];
    expect(proxy.connects.map((c) => c.target)).toEqual(expected.map((h) => `${h}:443`));
    expect(ecr.calls.map((c) => [c.host, c.servername, c.service, c.region, c.verified])).toEqual([
      [expected[0], expected[0], 'ecr', 'us-west-2', true],
      [expected[1], expected[1], 'ecr', 'us-east-1', true],
      [expected[2], expected[2], 'ecr', 'us-west-2', true],
      [expected[3], expected[3], 'ecr', 'us-east-2', true],
      [expected[4], expected[4], 'ecr-public', 'us-east-1', true],
    ]);
  });

  it('answers 502 without an upstream and still records the target', async () => {
    const proxy = track(await startConnectProxy());
    const { status, socket } = await openTunnel(proxy, 'api.ecr.eu-west-1.amazonaws.com:443');
    socket.destroy();
    expect(status).toBe(502);

    const sdk = track(
      new ECRClient({
        region: 'ap-southeast-2',
        credentials,
        maxAttempts: 1,
        requestHandler: { httpsAgent: createTunnelAgent(proxy, { ca: ca.caCert }) },
      }),
    );
    await expect(sdk.send(new GetAuthorizationTokenCommand({}))).rejects.toThrow(/502/);
    expect(proxy.connects.map((c) => [c.target, c.tunnelled])).toEqual([
      ['api.ecr.eu-west-1.amazonaws.com:443', false],
      ['api.ecr.ap-southeast-2.amazonaws.com:443', false],
    ]);
  });

  it('records plain-HTTP proxied requests and refuses them', async () => {
    const proxy = track(await startConnectProxy());
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest(
        {
          host: '127.0.0.1',
          port: proxy.port,
          path: 'http://169.254.169.254/latest/meta-data/',
          headers: { host: '169.254.169.254', 'proxy-authorization': 'Basic dTpw' },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(status).toBe(502);
    expect(proxy.requests).toEqual([
      {
        method: 'GET',
        url: 'http://169.254.169.254/latest/meta-data/',
        host: '169.254.169.254',
        proxyAuthorization: 'Basic dTpw',
      },
    ]);
  });

  it('refuses a non-loopback upstream and closes with a tunnel still open', async () => {
    await expect(
      startConnectProxy({ upstream: { host: '10.0.0.1' as '127.0.0.1', port: 443 } }),
    ).rejects.toThrow(/must be 127\.0\.0\.1/);
    const { proxy } = await tlsEcrBehindProxy();
    const { socket } = await openTunnel(proxy, 'api.ecr.us-west-2.amazonaws.com:443');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const started = Date.now();
    await proxy.close();
    await closed;
    expect(Date.now() - started).toBeLessThan(500);
  });
});
