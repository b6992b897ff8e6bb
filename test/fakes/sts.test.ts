import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fromTemporaryCredentials, fromWebToken } from '@aws-sdk/credential-providers';
// Transitive dependency of the SDK (there is no client-sts here, and the nested STS client only has
// the AssumeRole* commands): sign GetCallerIdentity with the SDK's own signer.
import { SignatureV4 } from '@smithy/signature-v4';
import { startFakeSts, type FakeSts } from './sts';

const BASE = {
  accessKeyId: 'AKIDFAKEBASEUSER0001',
  secretAccessKey: 'base/secret/for/tests/only/000000000000',
};
const ALICE = {
  arn: 'arn:aws:iam::123456789012:user/alice',
  account: '123456789012',
  userId: 'AIDAFAKEALICE000001',
};

let servers: FakeSts[] = [];
const savedEndpoint = process.env.AWS_ENDPOINT_URL_STS;
afterEach(async () => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
  else process.env.AWS_ENDPOINT_URL_STS = savedEndpoint;
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function fake(): Promise<FakeSts> {
  const server = await startFakeSts({
    identities: { [BASE.accessKeyId]: { ...ALICE, secretAccessKey: BASE.secretAccessKey } },
  });
  servers.push(server);
  return server;
}

class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}
function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

async function getCallerIdentity(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<{ status: number; body: string }> {
  const { hostname, port, host } = new URL(url);
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signed = await new SignatureV4({
    service: 'sts',
    region: 'us-east-1',
    credentials,
    sha256: NodeSha256,
  }).sign({
    method: 'POST',
    protocol: 'http:',
    hostname,
    port: Number(port),
    path: '/',
    headers: { host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  return new Promise((resolve, reject) => {
    request({ hostname, port, method: 'POST', path: '/', headers: signed.headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    })
      .on('error', reject)
      .end(body);
  });
}

describe('fake STS', () => {
  it('answers GetCallerIdentity for a known, correctly signed key', async () => {
    const server = await fake();
    const res = await getCallerIdentity(server.url, BASE);
    expect(res.status).toBe(200);
    expect(res.body).toContain(
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
    );
    expect(res.body).toContain('<Arn>arn:aws:iam::123456789012:user/alice</Arn>');
    expect(res.body).toContain('<Account>123456789012</Account>');
    expect(server.calls[0]).toMatchObject({
      action: 'GetCallerIdentity',
      verified: true,
      signingService: 'sts',
    });

    const wrong = await getCallerIdentity(server.url, { ...BASE, secretAccessKey: 'wrong' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    const unknown = await getCallerIdentity(server.url, { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' });
    expect(unknown.body).toMatch(
      /<ErrorResponse[^>]*>\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>InvalidClientTokenId</,
    );
  });

  it('serves fromTemporaryCredentials (AssumeRole), and remembers the issued keys', async () => {
    const server = await fake();
    const provider = fromTemporaryCredentials({
      masterCredentials: BASE,
      params: {
        RoleArn: 'arn:aws:iam::210987654321:role/ecr-pull',
        RoleSessionName: 'ecr-login-test',
        DurationSeconds: 900,
      },
      clientConfig: { region: 'us-west-2', endpoint: server.url },
    });
    const creds = await provider();
    const call = server.calls[0];
    expect(call).toMatchObject({
      action: 'AssumeRole',
      version: '2011-06-15',
      accessKeyId: BASE.accessKeyId,
      region: 'us-west-2',
      signingService: 'sts',
      verified: true,
      roleArn: 'arn:aws:iam::210987654321:role/ecr-pull',
      roleSessionName: 'ecr-login-test',
      durationSeconds: 900,
      status: 200,
    });
    expect(creds).toMatchObject({
      accessKeyId: call.issued?.accessKeyId,
      secretAccessKey: call.issued?.secretAccessKey,
      sessionToken: call.issued?.sessionToken,
    });
    expect(Math.abs((creds.expiration?.getTime() ?? 0) - (Date.now() + 900_000))).toBeLessThan(3000);

    const who = await getCallerIdentity(server.url, creds);
    expect(who.body).toContain('<Arn>arn:aws:sts::210987654321:assumed-role/ecr-pull/ecr-login-test</Arn>');
  });

  it('returns the XML AccessDenied error, which the SDK surfaces by code', async () => {
    const server = await fake();
    server.setBehaviour(
      {
        error: { code: 'AccessDenied', message: 'User: alice is not authorized to perform: sts:AssumeRole' },
      },
      'AssumeRole',
    );
    const provider = fromTemporaryCredentials({
      masterCredentials: BASE,
      params: { RoleArn: 'arn:aws:iam::210987654321:role/ecr-pull', RoleSessionName: 's' },
      clientConfig: { region: 'us-east-1', endpoint: server.url },
    });
    await expect(provider()).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'User: alice is not authorized to perform: sts:AssumeRole',
      $metadata: { httpStatusCode: 403 },
    });
    expect(server.calls).toHaveLength(1);
  });

  it('serves fromWebToken (AssumeRoleWithWebIdentity, unsigned) through AWS_ENDPOINT_URL_STS', async () => {
    const server = await fake();
    process.env.AWS_ENDPOINT_URL_STS = server.url;
    const creds = await fromWebToken({
      roleArn: 'arn:aws:iam::123456789012:role/irsa',
      webIdentityToken: 'eyJhbGciOiJSUzI1NiJ9.fake.jwt',
      roleSessionName: 'irsa-session',
      clientConfig: { region: 'eu-west-1' },
    })();
    expect(server.calls[0]).toMatchObject({
      action: 'AssumeRoleWithWebIdentity',
      accessKeyId: undefined,
      roleArn: 'arn:aws:iam::123456789012:role/irsa',
      roleSessionName: 'irsa-session',
      webIdentityToken: 'eyJhbGciOiJSUzI1NiJ9.fake.jwt',
      status: 200,
    });
    expect(creds.accessKeyId).toBe(server.calls[0].issued?.accessKeyId);
  });
});
