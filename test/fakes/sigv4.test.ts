import { createHash, createHmac } from 'node:crypto';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
// Transitive dependency of the SDK: the very signer the clients use, driven directly so the test can
// pick awkward paths and query strings that GetAuthorizationToken never produces.
import { SignatureV4 } from '@smithy/signature-v4';
import { parseSigV4Authorization, verifySigV4 } from './sigv4';

interface Captured {
  req: IncomingMessage;
  body: Buffer;
}

/** Records whatever arrives and answers a minimal valid GetAuthorizationToken reply. */
async function startCapture(): Promise<{ url: string; captured: Captured[]; close: () => Promise<void> }> {
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({ req, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end('{"authorizationData":[]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    captured,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The SDK signer wants a hash constructor; node:crypto is enough. */
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

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.map((stop) => stop()));
  stops = [];
});

describe('parseSigV4Authorization', () => {
  it('splits the credential scope and header list', () => {
    const parsed = parseSigV4Authorization(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-west-2/ecr/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=' +
        'ab'.repeat(32),
    );
    expect(parsed).toEqual({
      accessKeyId: 'AKIDEXAMPLE',
      date: '20261122',
      region: 'us-west-2',
      service: 'ecr',
      signedHeaders: ['content-type', 'host', 'x-amz-date', 'x-amz-target'],
      signature: 'ab'.repeat(32),
      scope: '20261122/us-west-2/ecr/aws4_request',
    });
  });

  it('rejects other schemes and truncated scopes', () => {
    expect(parseSigV4Authorization(undefined)).toBeUndefined();
    expect(parseSigV4Authorization('Basic QVdTOng=')).toBeUndefined();
    expect(
      parseSigV4Authorization(
        'AWS4-HMAC-SHA256 Credential=AKID/20261122/us-west-2/ecr, SignedHeaders=host, Signature=00',
      ),
    ).toBeUndefined();
  });
});

describe('verifySigV4 against requests signed by the real SDK', () => {
  it('accepts an ECRClient request with the right secret and rejects a wrong one', async () => {
    const capture = await startCapture();
    stops.push(capture.close);
    const client = new ECRClient({
      region: 'us-west-2',
      endpoint: capture.url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: 'session-token' },
    });
    await client.send(new GetAuthorizationTokenCommand({ registryIds: ['123456789012'] }));
    client.destroy();

    expect(capture.captured).toHaveLength(1);
    const { req, body } = capture.captured[0];
    const auth = parseSigV4Authorization(req.headers.authorization);
    expect(auth).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', region: 'us-west-2', service: 'ecr' });
    // The session token is signed, so tampering with it would break the signature.
    expect(auth?.signedHeaders).toContain('x-amz-security-token');
    expect(verifySigV4(req, body, SECRET)).toBe(true);
    expect(verifySigV4(req, body, SECRET + 'x')).toBe(false);
    expect(verifySigV4(req, Buffer.concat([body, Buffer.from(' ')]), SECRET)).toBe(false);
    expect(verifySigV4({ ...req, method: 'PUT', headers: req.headers, url: req.url }, body, SECRET)).toBe(
      false,
    );
  });

  it('handles encoded paths, repeated and unsorted query parameters, and folded header values', async () => {
    const capture = await startCapture();
    stops.push(capture.close);
    const { port } = new URL(capture.url);
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'eu-central-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
      sha256: NodeSha256,
    });
    const body = '{"hello":"wörld"}';
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: Number(port),
      path: '/a%20b/c%2Fd/./e/',
      query: { zeta: 'last', alpha: ['2', '1'], 'sp ace': 'x y', empty: '' },
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'x-custom': '  a   b  ' },
      body,
    });
    const query = 'zeta=last&alpha=2&alpha=1&sp%20ace=x%20y&empty=';
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: `${signed.path}?${query}`, headers: signed.headers },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', reject);
      req.end(body);
    });

    const { req, body: received } = capture.captured[0];
    expect(verifySigV4(req, received, SECRET)).toBe(true);
    expect(
      verifySigV4(
        { ...req, headers: req.headers, url: req.url?.replace('zeta=last', 'zeta=first') },
        received,
        SECRET,
      ),
    ).toBe(false);
  });
});
