// Fake EC2 instance metadata service (IMDSv2 session tokens, optional v1). The SDK finds it through
// AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:<port>.
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { recordIssuedKey } from './issued-keys';
import { headerValue, listenLoopback, manage, pause, sendJson } from './server';

export type ImdsBehaviour =
  | 'ok'
  /**
   * Leave the token PUT unanswered. Inside a container behind a hop limit of 1 the PUT's reply is
   * dropped, so the client sees a timeout rather than an error.
   */
  | 'hangTokenPut'
  | 'hang'
  | { delayMs: number };

export interface ImdsRequest {
  method: string | undefined;
  path: string | undefined;
  /** X-aws-ec2-metadata-token sent with the request. */
  token: string | undefined;
  /** X-aws-ec2-metadata-token-ttl-seconds sent with a token PUT. */
  ttlSeconds: string | undefined;
  userAgent: string | undefined;
  status: number;
}

export interface FakeImdsOptions {
  roleName?: string;
  /** Refuse metadata GETs that carry no session token (default true, i.e. IMDSv2 required). */
  requireV2?: boolean;
  credentials?: { AccessKeyId?: string; SecretAccessKey?: string; Token?: string };
  expirationSeconds?: number;
  instanceProfileArn?: string;
  instanceProfileId?: string;
  region?: string;
  behaviour?: ImdsBehaviour;
}

export interface FakeImds {
  /** Value for AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  url: string;
  requests: ImdsRequest[];
  /** Session tokens issued so far. */
  tokens: string[];
  credentials: { AccessKeyId: string; SecretAccessKey: string; Token: string };
  roleName: string;
  setBehaviour(behaviour: ImdsBehaviour): void;
  close(): Promise<void>;
}

const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/';

export async function startFakeImds(options: FakeImdsOptions = {}): Promise<FakeImds> {
  const roleName = options.roleName ?? 'ecr-login-instance-role';
  const requireV2 = options.requireV2 ?? true;
  const credentials = {
    AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    SecretAccessKey: randomBytes(30).toString('base64'),
    Token: randomBytes(48).toString('base64'),
    ...options.credentials,
  };
  recordIssuedKey(credentials.AccessKeyId, credentials.SecretAccessKey);
  const tokenExpiry = new Map<string, number>();
  const tokens: string[] = [];
  const requests: ImdsRequest[] = [];
  let behaviour = options.behaviour ?? 'ok';

  const server = createServer((req, res) => {
    const record: ImdsRequest = {
      method: req.method,
      path: req.url,
      token: headerValue(req.headers['x-aws-ec2-metadata-token']),
      ttlSeconds: headerValue(req.headers['x-aws-ec2-metadata-token-ttl-seconds']),
      userAgent: req.headers['user-agent'],
      status: 0,
    };
    requests.push(record);
    // Real IMDS answers text/plain for everything, JSON documents included.
    const text = (status: number, body: string): void => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const json = (body: unknown): void => {
      record.status = 200;
      sendJson(res, 200, body, { 'Content-Type': 'text/plain' });
    };

    (async () => {
      const current = behaviour;
      const isTokenPut = req.method === 'PUT' && req.url === '/latest/api/token';
      if (current === 'hang' || (current === 'hangTokenPut' && isTokenPut)) return;
      if (typeof current === 'object' && !(await pause(current.delayMs, lifecycle.signal))) return;

      if (isTokenPut) {
        const ttl = Number(record.ttlSeconds);
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return text(400, 'Bad Request');
        const token = randomBytes(40).toString('base64');
        tokens.push(token);
        tokenExpiry.set(token, Date.now() + ttl * 1000);
        record.status = 200;
        res.writeHead(200, {
          'Content-Type': 'text/plain',
          'X-aws-ec2-metadata-token-ttl-seconds': String(ttl),
        });
        res.end(token);
        return;
      }
      if (req.method !== 'GET') return text(405, 'Method Not Allowed');

      // A token that is present but wrong is refused even when v1 is allowed.
      if (record.token !== undefined) {
        const expiry = tokenExpiry.get(record.token);
        if (expiry === undefined || expiry < Date.now()) return text(401, 'Unauthorized');
      } else if (requireV2) {
        return text(401, 'Unauthorized');
      }

      const now = isoSeconds(Date.now());
      switch (req.url) {
        case CREDENTIALS_PATH:
          return text(200, roleName);
        case CREDENTIALS_PATH + roleName:
          return json({
            Code: 'Success',
            LastUpdated: now,
            Type: 'AWS-HMAC',
            ...credentials,
            Expiration: isoSeconds(Date.now() + (options.expirationSeconds ?? 6 * 3600) * 1000),
          });
        case '/latest/meta-data/iam/info':
          return json({
            Code: 'Success',
            LastUpdated: now,
            InstanceProfileArn:
              options.instanceProfileArn ?? `arn:aws:iam::123456789012:instance-profile/${roleName}`,
            InstanceProfileId: options.instanceProfileId ?? 'AIPAFAKEINSTANCEPROFILE',
          });
        case '/latest/meta-data/placement/region':
          return text(200, options.region ?? 'us-west-2');
        default:
          return notFound(res, record);
      }
    })().catch(() => res.destroy());
  });
  const lifecycle = manage(server);
  const port = await listenLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokens,
    credentials,
    roleName,
    setBehaviour(next) {
      behaviour = next;
    },
    close: lifecycle.close,
  };
}

function notFound(res: ServerResponse, record: ImdsRequest): void {
  record.status = 404;
  const body =
    '<?xml version="1.0" encoding="iso-8859-1"?>\n<html><head><title>404 - Not Found</title></head>' +
    '<body><h1>404 - Not Found</h1></body></html>\n';
  res.writeHead(404, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
