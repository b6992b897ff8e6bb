import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromContainerMetadata, fromHttp } from '@aws-sdk/credential-providers';
import { startFakeEcsCredentials, type FakeEcsCredentials } from './ecs';

const ENV_KEYS = [
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

let servers: FakeEcsCredentials[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  servers = [];
  dirs = [];
});

async function fake(
  options: Parameters<typeof startFakeEcsCredentials>[0] = {},
): Promise<FakeEcsCredentials> {
  const server = await startFakeEcsCredentials(options);
  servers.push(server);
  return server;
}

describe('fake container credentials endpoint', () => {
  it('serves credentials to fromHttp with the authorization token read from a file', async () => {
    const server = await fake({ authorization: 'pod-identity-token' });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2\/credentials\/[0-9a-f-]{36}$/);
    const dir = await mkdtemp(join(tmpdir(), 'ecs-fake-'));
    dirs.push(dir);
    await writeFile(join(dir, 'token'), 'pod-identity-token');

    const before = Date.now();
    const creds = await fromHttp({
      awsContainerCredentialsFullUri: server.url,
      awsContainerAuthorizationTokenFile: join(dir, 'token'),
    })();
    expect(creds).toMatchObject({
      accessKeyId: server.credentials.AccessKeyId,
      secretAccessKey: server.credentials.SecretAccessKey,
      sessionToken: server.credentials.Token,
    });
    const expiry = creds.expiration?.getTime() ?? 0;
    expect(expiry).toBeGreaterThan(before + 3600_000 - 2000);
    expect(expiry).toBeLessThan(before + 3600_000 + 2000);
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: server.path,
        authorization: 'pod-identity-token',
        status: 200,
      }),
    ]);
  });

  it('refuses a wrong token with 401, which fromHttp reports', async () => {
    const server = await fake({ authorization: 'right' });
    const provider = fromHttp({
      awsContainerCredentialsFullUri: server.url,
      awsContainerAuthorizationToken: 'wrong',
      maxRetries: 0,
    });
    await expect(provider()).rejects.toThrow(/401/);
    expect(server.requests.map((r) => [r.authorization, r.status])).toEqual([['wrong', 401]]);
  });

  it('serves fromContainerMetadata through AWS_CONTAINER_CREDENTIALS_FULL_URI and _AUTHORIZATION_TOKEN', async () => {
    const server = await fake({
      authorization: 'ecs-agent-token',
      credentials: { AccessKeyId: 'ASIAFIXEDFORTEST0001', RoleArn: 'arn:aws:iam::123456789012:role/task' },
    });
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'ecs-agent-token';
    const creds = await fromContainerMetadata({ timeout: 500 })();
    expect(creds.accessKeyId).toBe('ASIAFIXEDFORTEST0001');
    expect(server.requests[0]).toMatchObject({ authorization: 'ecs-agent-token', status: 200 });
  });

  it('hangs, delays and fails on request', async () => {
    const server = await fake();
    const provider = (timeout: number) =>
      fromHttp({ awsContainerCredentialsFullUri: server.url, timeout, maxRetries: 0 });

    server.setBehaviour('hang');
    // fromContainerMetadata's timeout is a socket inactivity timeout, so it gives up.
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url;
    const started = Date.now();
    await expect(fromContainerMetadata({ timeout: 150 })()).rejects.toThrow(/TimeoutError/);
    expect(Date.now() - started).toBeLessThan(1000);
    // fromHttp's timeout becomes the handler's requestTimeout, which in this SDK version only logs a
    // warning: against a hung endpoint it never settles on its own. Callers need their own deadline.
    const outcome = await Promise.race([
      provider(100)().then(
        () => 'resolved',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(resolve, 400, 'still pending')),
    ]);
    expect(outcome).toBe('still pending');

    server.setBehaviour({ delayMs: 100 });
    await expect(provider(1000)()).resolves.toMatchObject({ accessKeyId: server.credentials.AccessKeyId });

    server.setBehaviour({ status: 500 });
    await expect(provider(1000)()).rejects.toThrow(/500/);
    expect(server.requests.map((r) => r.status)).toEqual([0, 0, 200, 500]);
  });
});
