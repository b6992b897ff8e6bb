// Fake container credentials endpoint: what ECS tasks reach through
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and EKS Pod Identity through AWS_CONTAINER_CREDENTIALS_FULL_URI
// plus AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE). The SDK accepts plain http only for loopback and the
// link-local agent addresses, which is why a 127.0.0.1 URL works as a full URI.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { recordIssuedKey } from './issued-keys';
import { headerValue, listenLoopback, manage, pause, sendJson } from './server';

export type EcsBehaviour = 'ok' | 'hang' | { delayMs: number } | { status: number; body?: unknown };

export interface EcsRequest {
  method: string | undefined;
  path: string | undefined;
  authorization: string | undefined;
  userAgent: string | undefined;
  status: number;
}

export interface ContainerCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
  RoleArn: string;
  AccountId?: string;
}

export interface FakeEcsCredentialsOptions {
  /** Default `/v2/credentials/<random uuid>`, the shape ECS uses. */
  path?: string;
  /** When set, requests must carry exactly this Authorization header (else 401). */
  authorization?: string;
  credentials?: Partial<ContainerCredentials>;
  /** Seconds until the served credentials expire (default 3600). */
  expirationSeconds?: number;
  behaviour?: EcsBehaviour;
}

export interface FakeEcsCredentials {
  /** Full URI, usable as AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  url: string;
  /** Origin only, for tests that combine it with a relative URI themselves. */
  origin: string;
  path: string;
  requests: EcsRequest[];
  /** The credentials being served (mutable). */
  credentials: ContainerCredentials;
  setBehaviour(behaviour: EcsBehaviour): void;
  close(): Promise<void>;
}

export async function startFakeEcsCredentials(
  options: FakeEcsCredentialsOptions = {},
): Promise<FakeEcsCredentials> {
  const path = options.path ?? `/v2/credentials/${randomUUID()}`;
  const credentials: ContainerCredentials = {
    AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    SecretAccessKey: randomBytes(30).toString('base64'),
    Token: randomBytes(48).toString('base64'),
    RoleArn: 'arn:aws:iam::123456789012:role/ecr-login-task-role',
    ...options.credentials,
  };
  recordIssuedKey(credentials.AccessKeyId, credentials.SecretAccessKey);
  const expirationSeconds = options.expirationSeconds ?? 3600;
  const requests: EcsRequest[] = [];
  let behaviour = options.behaviour ?? 'ok';

  const server = createServer((req, res) => {
    const record: EcsRequest = {
      method: req.method,
      path: req.url,
      authorization: headerValue(req.headers.authorization),
      userAgent: req.headers['user-agent'],
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, body: unknown): void => {
      record.status = status;
      sendJson(res, status, body);
    };
    (async () => {
      const current = behaviour;
      if (current === 'hang') return;
      if (typeof current === 'object' && 'delayMs' in current) {
        if (!(await pause(current.delayMs, lifecycle.signal))) return;
      }
      if (typeof current === 'object' && 'status' in current) {
        return reply(current.status, current.body ?? { Code: 'InternalError', Message: 'fake failure' });
      }
      if (req.method !== 'GET' || req.url?.split('?')[0] !== path) {
        return reply(404, { Code: 'NotFound', Message: `no credentials at ${req.url}` });
      }
      if (options.authorization !== undefined && record.authorization !== options.authorization) {
        return reply(401, { Code: 'AccessDenied', Message: 'Authorization header is missing or invalid' });
      }
      reply(200, {
        ...credentials,
        // RFC 3339 without milliseconds, like the agents send.
        Expiration: new Date(Date.now() + expirationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
    })().catch(() => res.destroy());
  });
  const lifecycle = manage(server);
  const port = await listenLoopback(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin + path,
    origin,
    path,
    requests,
    credentials,
    setBehaviour(next) {
      behaviour = next;
    },
    close: lifecycle.close,
  };
}
