import { afterEach, describe, expect, it } from 'vitest';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { ECR_PUBLIC_TARGET, ECR_TARGET, startFakeEcr, type FakeEcr } from './ecr';

const KEY = 'AKIDFAKEECRLOGIN0001';
const SECRET = 'fake/secret/for/tests/only/0000000000000';

let servers: FakeEcr[] = [];
let clients: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clients = [];
});

async function fake(options: Parameters<typeof startFakeEcr>[0] = {}): Promise<FakeEcr> {
  const server = await startFakeEcr({ credentials: { [KEY]: SECRET }, ...options });
  servers.push(server);
  return server;
}

function ecr(
  server: FakeEcr,
  overrides: Partial<ConstructorParameters<typeof ECRClient>[0]> = {},
): ECRClient {
  const client = new ECRClient({
    region: 'us-west-2',
    endpoint: server.url,
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
    ...overrides,
  });
  clients.push(client);
  return client;
}

function decode(token: string | undefined): string {
  return Buffer.from(token ?? '', 'base64').toString('utf8');
}

describe('fake ECR with the real ECRClient', () => {
  it('issues one verified token per registry id, with the region from the signature', async () => {
    const server = await fake();
    const before = Date.now();
    const out = await ecr(server).send(
      new GetAuthorizationTokenCommand({ registryIds: ['123456789012', '210987654321'] }),
    );

    expect(server.calls).toHaveLength(1);
    const call = server.calls[0];
    expect(call).toMatchObject({
      target: ECR_TARGET,
      service: 'ecr',
      accessKeyId: KEY,
      region: 'us-west-2',
      signingService: 'ecr',
      registryIds: ['123456789012', '210987654321'],
      sessionToken: undefined,
      host: `127.0.0.1:${server.port}`,
      verified: true,
      status: 200,
      sdkRequest: 'attempt=1; max=3',
    });
    expect(call.userAgent).toMatch(/aws-sdk-js\/3\.\d+/);

    const data = out.authorizationData ?? [];
    expect(data.map((d) => d.proxyEndpoint)).toEqual([
      'https://123456789012.dkr.ecr.us-west-2.amazonaws.com',
      'https://210987654321.dkr.ecr.us-west-2.amazonaws.com',
    ]);
    expect(data.map((d) => decode(d.authorizationToken))).toEqual(call.passwords.map((p) => `AWS:${p}`));
    expect(new Set(call.passwords).size).toBe(2);
    // Default 12 h lifetime, parsed by the SDK into a Date.
    const expiresAt = data[0].expiresAt as Date;
    expect(expiresAt).toBeInstanceOf(Date);
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(before + 12 * 3600_000 - 1000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 12 * 3600_000 + 1000);
  });

  it('uses the default account without registryIds and honours ttl, password and session token', async () => {
    const server = await fake({
      tokenTtlSeconds: 60,
      password: 'fixed-password',
      defaultAccountId: '111122223333',
    });
    const client = ecr(server, {
      region: 'eu-north-1',
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET, sessionToken: 'the-session-token' },
    });
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    const [entry] = out.authorizationData ?? [];
    expect(decode(entry.authorizationToken)).toBe('AWS:fixed-password');
    expect(entry.proxyEndpoint).toBe('https://111122223333.dkr.ecr.eu-north-1.amazonaws.com');
    expect((entry.expiresAt as Date).getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    expect(server.calls[0]).toMatchObject({
      sessionToken: 'the-session-token',
      region: 'eu-north-1',
      verified: true,
    });

    server.setPassword(undefined);
    server.setTokenTtlSeconds(3600);
    const again = await client.send(new GetAuthorizationTokenCommand({}));
    expect(decode(again.authorizationData?.[0].authorizationToken)).not.toBe('AWS:fixed-password');
  });

  it('rejects a wrong secret with InvalidSignatureException and keys nobody issued', async () => {
    const server = await fake();
    const wrong = ecr(server, { credentials: { accessKeyId: KEY, secretAccessKey: 'not-the-secret' } });
    const error = await wrong.send(new GetAuthorizationTokenCommand({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    expect(server.calls[0]).toMatchObject({ verified: false, status: 403 });

    const unknown = ecr(server, { credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } });
    await expect(unknown.send(new GetAuthorizationTokenCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  });

  it('accepts unknown keys unverified only when asked to', async () => {
    const server = await fake({ credentials: {}, acceptUnknownKeys: true });
    await ecr(server).send(new GetAuthorizationTokenCommand({}));
    expect(server.calls[0]).toMatchObject({ accessKeyId: KEY, verified: false, status: 200 });
  });

  it('returns modelled errors that the SDK maps, and retries transient ones', async () => {
    const server = await fake();
    const client = ecr(server);

    server.setBehaviour({
      error: { type: 'AccessDeniedException', message: 'not authorized: ecr:GetAuthorizationToken' },
    });
    await expect(client.send(new GetAuthorizationTokenCommand({}))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: 'not authorized: ecr:GetAuthorizationToken',
      $metadata: { httpStatusCode: 400 },
    });
    expect(server.calls).toHaveLength(1);

    server.setBehaviour({ error: { type: 'ServerException' }, times: 2 });
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    expect(out.authorizationData).toHaveLength(1);
    expect(server.calls.slice(1).map((c) => [c.status, c.sdkRequest])).toEqual([
      [500, 'attempt=1; max=3'],
      [500, 'attempt=2; max=3'],
      [200, 'attempt=3; max=3'],
    ]);

    await expect(
      client.send(new GetAuthorizationTokenCommand({ registryIds: ['nope'] })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('delays and hangs on request, and close() does not wait for a hung client', async () => {
    const server = await fake();
    server.setBehaviour({ delayMs: 150 });
    const started = Date.now();
    await ecr(server).send(new GetAuthorizationTokenCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    server.setBehaviour('hang');
    // requestTimeout alone only logs a warning in this SDK version; it needs throwOnRequestTimeout.
    const client = ecr(server, {
      maxAttempts: 1,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    await expect(client.send(new GetAuthorizationTokenCommand({}))).rejects.toMatchObject({
      name: 'TimeoutError',
    });

    // A second hung request still open while closing.
    const pending = ecr(server, { maxAttempts: 1 })
      .send(new GetAuthorizationTokenCommand({}))
      .catch((e: unknown) => e);
    await waitFor(() => server.calls.length === 3);
    const closing = Date.now();
    await server.close();
    expect(Date.now() - closing).toBeLessThan(500);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('fake ECR Public with the real ECRPUBLICClient', () => {
  it('answers SpencerFrontendService.GetAuthorizationToken with a single object', async () => {
    const server = await fake();
    const client = new ECRPUBLICClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
    });
    clients.push(client);
    const out = await client.send(new GetPublicTokenCommand({}));
    expect(server.calls[0]).toMatchObject({
      target: ECR_PUBLIC_TARGET,
      service: 'ecr-public',
      region: 'us-east-1',
      signingService: 'ecr-public',
      verified: true,
      registryIds: undefined,
    });
    expect(decode(out.authorizationData?.authorizationToken)).toBe(`AWS:${server.calls[0].passwords[0]}`);
    expect(out.authorizationData?.expiresAt).toBeInstanceOf(Date);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
