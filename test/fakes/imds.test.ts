import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromInstanceMetadata } from '@aws-sdk/credential-providers';
import { startFakeImds, type FakeImds } from './imds';

// Hermetic: no endpoint, mode or v1 switch may leak in from the machine's environment or ~/.aws.
const ENV = {
  AWS_EC2_METADATA_SERVICE_ENDPOINT: undefined,
  AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: undefined,
  AWS_EC2_METADATA_V1_DISABLED: undefined,
  AWS_EC2_METADATA_DISABLED: undefined,
  AWS_CONFIG_FILE: '/nonexistent/ecr-login-test/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ecr-login-test/credentials',
};
const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));
function setEnv(values: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

let servers: FakeImds[] = [];
beforeEach(() => setEnv(ENV));
afterEach(async () => {
  setEnv(saved);
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function fake(options: Parameters<typeof startFakeImds>[0] = {}): Promise<FakeImds> {
  const server = await startFakeImds(options);
  servers.push(server);
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url;
  return server;
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('fake IMDS', () => {
  it('serves IMDSv2 credentials to fromInstanceMetadata', async () => {
    const server = await fake({ roleName: 'node-role' });
    const creds = await fromInstanceMetadata({ timeout: 500 })();
    expect(creds).toMatchObject({
      accessKeyId: server.credentials.AccessKeyId,
      secretAccessKey: server.credentials.SecretAccessKey,
      sessionToken: server.credentials.Token,
    });
    expect(server.tokens).toHaveLength(1);
    expect(server.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['PUT', '/latest/api/token', 200],
      ['GET', '/latest/meta-data/iam/security-credentials/', 200],
      ['GET', '/latest/meta-data/iam/security-credentials/node-role', 200],
    ]);
    expect(server.requests[0].ttlSeconds).toBe('21600');
    expect(server.requests.slice(1).map((r) => r.token)).toEqual([server.tokens[0], server.tokens[0]]);
  });

  it('refuses tokenless and bad-token GETs with 401 and serves iam/info to a valid token', async () => {
    const server = await fake({ instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/p' });
    expect((await get(`${server.url}/latest/meta-data/iam/info`)).status).toBe(401);
    expect(
      (await get(`${server.url}/latest/meta-data/iam/info`, { 'x-aws-ec2-metadata-token': 'forged' })).status,
    ).toBe(401);

    const token = await new Promise<string>((resolve, reject) => {
      request(
        `${server.url}/latest/api/token`,
        {
          method: 'PUT',
          headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve(body));
        },
      )
        .on('error', reject)
        .end();
    });
    const info = await get(`${server.url}/latest/meta-data/iam/info`, { 'x-aws-ec2-metadata-token': token });
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body)).toMatchObject({
      Code: 'Success',
      InstanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/p',
      InstanceProfileId: expect.any(String),
    });
  });

  it('simulates the hop-limit hang: the SDK times out on the PUT and falls back to v1', async () => {
    const strict = await fake({ behaviour: 'hangTokenPut' });
    await expect(fromInstanceMetadata({ timeout: 150 })()).rejects.toThrow();
    expect(strict.requests.map((r) => [r.method, r.status, r.token])).toEqual([
      ['PUT', 0, undefined],
      ['GET', 401, undefined],
    ]);

    const lenient = await fake({ behaviour: 'hangTokenPut', requireV2: false });
    const creds = await fromInstanceMetadata({ timeout: 150 })();
    expect(creds.accessKeyId).toBe(lenient.credentials.AccessKeyId);
    expect(lenient.requests.filter((r) => r.method === 'GET').every((r) => r.token === undefined)).toBe(true);
  });
});
