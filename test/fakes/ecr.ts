// Fake Amazon ECR and ECR Public control planes: the AWS JSON 1.1 protocol (POST /, operation in
// X-Amz-Target) for GetAuthorizationToken only, which is all a credential helper calls.
// One server answers both services because the target prefix says which one was meant.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { headerValue, listenLoopback, manage, pause, readBody, sendJson } from './server';
import { issuedSecret } from './issued-keys';
import { parseSigV4Authorization, verifySigV4 } from './sigv4';

export const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';
export const ECR_PUBLIC_TARGET = 'SpencerFrontendService.GetAuthorizationToken';

export interface AwsJsonError {
  /** Defaults by type: 5xx for ServerException/InternalFailure/ServiceUnavailableException, else 400. */
  status?: number;
  type: string;
  message?: string;
}

export type EcrBehaviour =
  | 'ok'
  /** Accept the request and never answer: exercises client timeouts. */
  | 'hang'
  | { delayMs: number }
  /** With `times`, only the next N calls fail and later ones succeed (retry tests). */
  | { error: AwsJsonError; times?: number };

export interface EcrCall {
  target: string | undefined;
  service: 'ecr' | 'ecr-public' | 'unknown';
  accessKeyId: string | undefined;
  /** From the SigV4 credential scope. */
  region: string | undefined;
  /** Service name in the SigV4 scope: 'ecr' or 'ecr-public' for a correctly configured client. */
  signingService: string | undefined;
  registryIds: string[] | undefined;
  sessionToken: string | undefined;
  host: string | undefined;
  /** TLS SNI, only in TLS mode: shows which endpoint name the client believed it was calling. */
  servername: string | undefined;
  userAgent: string | undefined;
  /** x-amz-user-agent, where the SDK puts its feature metadata. */
  amzUserAgent: string | undefined;
  /** amz-sdk-request, e.g. "attempt=2; max=3": shows SDK retries. */
  sdkRequest: string | undefined;
  /** True only if a known secret reproduced the signature. */
  verified: boolean;
  status: number;
  /** Passwords issued by this call, in response order. */
  passwords: string[];
  expiresAt: number | undefined;
  body: string;
}

export interface FakeEcrOptions {
  /** Serve HTTPS with this key pair instead of HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** accessKeyId -> secret. Requests signed with a listed key are verified. */
  credentials?: Record<string, string>;
  /**
   * Accept keys missing from `credentials`, unverified (default false: they get
   * UnrecognizedClientException, as from AWS). Only the fake's own tests turn this on.
   */
  acceptUnknownKeys?: boolean;
  /** Lifetime of issued tokens (default 12 hours, like ECR). */
  tokenTtlSeconds?: number;
  /** Password to issue; by default each call gets a fresh random one so tests can tell calls apart. */
  password?: string;
  /** Account used when GetAuthorizationToken is called without registryIds. */
  defaultAccountId?: string;
  behaviour?: EcrBehaviour;
}

export interface FakeEcr {
  url: string;
  port: number;
  calls: EcrCall[];
  /** Mutable: add or remove keys while running. */
  credentials: Map<string, string>;
  setBehaviour(behaviour: EcrBehaviour): void;
  setTokenTtlSeconds(seconds: number): void;
  setPassword(password: string | undefined): void;
  close(): Promise<void>;
}

const SERVER_ERRORS: Record<string, number> = {
  ServerException: 500,
  InternalFailure: 500,
  InternalServerError: 500,
  ServiceUnavailableException: 503,
};

export async function startFakeEcr(options: FakeEcrOptions = {}): Promise<FakeEcr> {
  const credentials = new Map(Object.entries(options.credentials ?? {}));
  const calls: EcrCall[] = [];
  let behaviour = ownCopy(options.behaviour ?? 'ok');
  let ttlSeconds = options.tokenTtlSeconds ?? 12 * 60 * 60;
  let fixedPassword = options.password;
  let issued = 0;
  const defaultAccount = options.defaultAccountId ?? '123456789012';

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : createHttpServer(handler);
  const lifecycle = manage(server);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = headerValue(req.headers['x-amz-target']);
    const auth = parseSigV4Authorization(headerValue(req.headers.authorization));
    const service =
      target === ECR_TARGET ? 'ecr' : target === ECR_PUBLIC_TARGET ? 'ecr-public' : ('unknown' as const);
    const call: EcrCall = {
      target,
      service,
      accessKeyId: auth?.accessKeyId,
      region: auth?.region,
      signingService: auth?.service,
      registryIds: undefined,
      sessionToken: headerValue(req.headers['x-amz-security-token']),
      host: req.headers.host,
      servername: (req.socket as Partial<TLSSocket>).servername || undefined,
      userAgent: req.headers['user-agent'],
      amzUserAgent: headerValue(req.headers['x-amz-user-agent']),
      sdkRequest: headerValue(req.headers['amz-sdk-request']),
      verified: false,
      status: 0,
      passwords: [],
      expiresAt: undefined,
      body: body.toString('utf8'),
    };
    calls.push(call);

    const fail = (error: AwsJsonError): void => {
      const status = error.status ?? SERVER_ERRORS[error.type] ?? 400;
      call.status = status;
      sendJson(
        res,
        status,
        { __type: error.type, message: error.message ?? error.type },
        { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-errortype': error.type, ...requestId() },
      );
    };

    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      return fail({ type: 'UnknownOperationException', message: `${req.method} ${req.url}` });
    }
    if (!auth) {
      return fail({
        status: 403,
        type: 'MissingAuthenticationTokenException',
        message: 'Missing Authentication Token',
      });
    }
    const secret = credentials.get(auth.accessKeyId) ?? issuedSecret(auth.accessKeyId);
    if (secret === undefined && !options.acceptUnknownKeys) {
      return fail({
        status: 403,
        type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
    }
    if (secret !== undefined) {
      call.verified = verifySigV4(req, body, secret);
      if (!call.verified) {
        return fail({
          status: 403,
          type: 'InvalidSignatureException',
          message:
            'The request signature we calculated does not match the signature you provided. ' +
            'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        });
      }
    }

    let input: { registryIds?: unknown };
    try {
      input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as { registryIds?: unknown });
    } catch {
      return fail({
        type: 'SerializationException',
        message: 'Start of structure or map found where not expected.',
      });
    }
    if (Array.isArray(input.registryIds)) call.registryIds = input.registryIds.map(String);

    const current = behaviour;
    if (current === 'hang') return;
    if (typeof current === 'object' && 'delayMs' in current) {
      if (!(await pause(current.delayMs, lifecycle.signal))) return;
    }
    if (typeof current === 'object' && 'error' in current) {
      if (current.times === undefined || current.times > 0) {
        if (current.times !== undefined) current.times -= 1;
        return fail(current.error);
      }
    }

    if (service === 'unknown') {
      return fail({ type: 'UnknownOperationException', message: `Unknown operation ${target ?? '(none)'}` });
    }
    const badId = call.registryIds?.find((id) => !/^[0-9]{12}$/.test(id));
    if (badId !== undefined) {
      return fail({
        type: 'InvalidParameterException',
        message:
          "Invalid parameter at 'registryIds' failed to satisfy constraint: " +
          "'Member must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]{12}]'",
      });
    }

    // Fractional epoch seconds, as ECR sends them; the SDK turns the number into a Date.
    const expiresAt = Math.floor(Date.now() + ttlSeconds * 1000) / 1000;
    call.expiresAt = expiresAt;
    const token = (): string => {
      const password = fixedPassword ?? `fake-${++issued}-${randomBytes(12).toString('base64url')}`;
      call.passwords.push(password);
      return Buffer.from(`AWS:${password}`, 'utf8').toString('base64');
    };

    let output: unknown;
    if (service === 'ecr-public') {
      output = { authorizationData: { authorizationToken: token(), expiresAt } };
    } else {
      const region = auth.region;
      const accounts = call.registryIds?.length ? call.registryIds : [defaultAccount];
      output = {
        authorizationData: accounts.map((account) => ({
          authorizationToken: token(),
          expiresAt,
          proxyEndpoint: `https://${account}.dkr.ecr.${region}.amazonaws.com`,
        })),
      };
    }
    call.status = 200;
    sendJson(res, 200, output, { 'Content-Type': 'application/x-amz-json-1.1', ...requestId() });
  }

  const port = await listenLoopback(server);
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    calls,
    credentials,
    setBehaviour(next) {
      behaviour = ownCopy(next);
    },
    setTokenTtlSeconds(seconds) {
      ttlSeconds = seconds;
    },
    setPassword(password) {
      fixedPassword = password;
    },
    close: lifecycle.close,
  };
}

// The `times` countdown mutates the behaviour, so never mutate an object the test still holds.
function ownCopy(behaviour: EcrBehaviour): EcrBehaviour {
  return typeof behaviour === 'object' ? { ...behaviour } : behaviour;
}

function requestId(): Record<string, string> {
  return { 'x-amzn-RequestId': randomUUID() };
}
