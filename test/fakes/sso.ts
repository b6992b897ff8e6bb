// Fake IAM Identity Center portal (the "SSO" service): GetRoleCredentials, a REST-JSON GET on
// /federation/credentials?account_id=…&role_name=… authorized by the x-amz-sso_bearer_token header
// that carries the access token `aws sso login` cached. Reachable through AWS_ENDPOINT_URL_SSO.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { recordIssuedKey } from './issued-keys';
import { headerValue, listenLoopback, manage, sendJson } from './server';

export interface SsoRequest {
  path: string | undefined;
  accountId: string | null;
  roleName: string | null;
  bearerToken: string | undefined;
  status: number;
}

export interface FakeSso {
  url: string;
  requests: SsoRequest[];
  /** The role credentials handed out. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  close(): Promise<void>;
}

/** `accessToken`: the only bearer token the portal accepts (what the token cache must hold). */
export async function startFakeSso(accessToken: string): Promise<FakeSso> {
  const credentials = {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: randomBytes(48).toString('base64'),
  };
  recordIssuedKey(credentials.accessKeyId, credentials.secretAccessKey);
  const requests: SsoRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: SsoRequest = {
      path: url.pathname,
      accountId: url.searchParams.get('account_id'),
      roleName: url.searchParams.get('role_name'),
      bearerToken: headerValue(req.headers['x-amz-sso_bearer_token']),
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, body: unknown, errorType?: string) => {
      record.status = status;
      if (errorType) res.setHeader('x-amzn-errortype', errorType);
      sendJson(res, status, body);
    };
    if (req.method !== 'GET' || url.pathname !== '/federation/credentials') {
      return reply(
        404,
        { message: `no such operation ${req.method} ${url.pathname}` },
        'ResourceNotFoundException',
      );
    }
    if (record.bearerToken !== accessToken) {
      return reply(401, { message: 'Session token not found or invalid' }, 'UnauthorizedException');
    }
    reply(200, { roleCredentials: { ...credentials, expiration: Date.now() + 3600_000 } });
  });
  const lifecycle = manage(server);
  const port = await listenLoopback(server);
  return { url: `http://127.0.0.1:${port}`, requests, credentials, close: lifecycle.close };
}
