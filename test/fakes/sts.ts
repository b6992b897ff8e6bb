// Fake AWS STS speaking the AWS query protocol: form-encoded POST bodies in, XML out. The SDK reaches
// it through AWS_ENDPOINT_URL_STS or a client `endpoint`. Credentials issued by AssumeRole* are
// remembered, so a later GetCallerIdentity signed with them reports the assumed role.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { recordIssuedKey } from './issued-keys';
import { headerValue, listenLoopback, manage, pause, readBody } from './server';
import { parseSigV4Authorization, verifySigV4 } from './sigv4';

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

const FORBIDDEN = new Set(['AccessDenied', 'InvalidClientTokenId', 'SignatureDoesNotMatch']);

export interface StsIdentity {
  arn: string;
  account: string;
  userId: string;
  /** When known, requests signed with this key are verified. */
  secretAccessKey?: string;
}

export interface StsError {
  /** Defaults to 403 for AccessDenied and the auth failures, 500 for Receiver faults, else 400. */
  status?: number;
  code: string;
  message?: string;
  /** 'Sender' (client fault, default) or 'Receiver'. */
  type?: 'Sender' | 'Receiver';
}

export type StsBehaviour = 'ok' | 'hang' | { delayMs: number } | { error: StsError; times?: number };

export type StsAction = 'GetCallerIdentity' | 'AssumeRole' | 'AssumeRoleWithWebIdentity';

export interface StsCall {
  action: string | undefined;
  version: string | undefined;
  params: Record<string, string>;
  accessKeyId: string | undefined;
  region: string | undefined;
  signingService: string | undefined;
  sessionToken: string | undefined;
  verified: boolean;
  roleArn: string | undefined;
  roleSessionName: string | undefined;
  webIdentityToken: string | undefined;
  durationSeconds: number | undefined;
  host: string | undefined;
  userAgent: string | undefined;
  status: number;
  /** Credentials handed out by AssumeRole*, if any. */
  issued?: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
}

export interface FakeStsOptions {
  /** accessKeyId -> who it is. */
  identities?: Record<string, StsIdentity>;
  /** Refuse signed calls from keys not in `identities` with InvalidClientTokenId (default false). */
  rejectUnknownKeys?: boolean;
  behaviour?: StsBehaviour;
}

export interface FakeSts {
  url: string;
  calls: StsCall[];
  identities: Map<string, StsIdentity>;
  /** Without `action` the behaviour applies to every action. */
  setBehaviour(behaviour: StsBehaviour, action?: StsAction): void;
  close(): Promise<void>;
}

export async function startFakeSts(options: FakeStsOptions = {}): Promise<FakeSts> {
  const identities = new Map(Object.entries(options.identities ?? {}));
  const calls: StsCall[] = [];
  let defaultBehaviour: StsBehaviour = copy(options.behaviour ?? 'ok');
  const perAction = new Map<string, StsBehaviour>();

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  const lifecycle = manage(server);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const form = new URLSearchParams(
      req.method === 'POST' ? body.toString('utf8') : (req.url ?? '').split('?')[1],
    );
    const params = Object.fromEntries(form);
    const auth = parseSigV4Authorization(headerValue(req.headers.authorization));
    const action = params.Action;
    const call: StsCall = {
      action,
      version: params.Version,
      params,
      accessKeyId: auth?.accessKeyId,
      region: auth?.region,
      signingService: auth?.service,
      sessionToken: headerValue(req.headers['x-amz-security-token']),
      verified: false,
      roleArn: params.RoleArn,
      roleSessionName: params.RoleSessionName,
      webIdentityToken: params.WebIdentityToken,
      durationSeconds: params.DurationSeconds === undefined ? undefined : Number(params.DurationSeconds),
      host: req.headers.host,
      userAgent: req.headers['user-agent'],
      status: 0,
    };
    calls.push(call);

    const fail = (error: StsError): void => {
      call.status = error.status ?? (FORBIDDEN.has(error.code) ? 403 : error.type === 'Receiver' ? 500 : 400);
      sendXml(
        res,
        call.status,
        `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>${error.type ?? 'Sender'}</Type>\n` +
          `    <Code>${xml(error.code)}</Code>\n    <Message>${xml(error.message ?? error.code)}</Message>\n` +
          `  </Error>\n  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`,
      );
    };

    // AssumeRoleWithWebIdentity is the one unsigned action: the web identity token is the proof.
    let identity: StsIdentity | undefined;
    if (action !== 'AssumeRoleWithWebIdentity') {
      if (!auth) {
        return fail({
          status: 403,
          code: 'MissingAuthenticationToken',
          message: 'Request is missing Authentication Token',
        });
      }
      identity = identities.get(auth.accessKeyId);
      if (!identity && (options.rejectUnknownKeys || action === 'GetCallerIdentity')) {
        return fail({
          status: 403,
          code: 'InvalidClientTokenId',
          message: 'The security token included in the request is invalid.',
        });
      }
      if (identity?.secretAccessKey !== undefined) {
        call.verified = verifySigV4(req, body, identity.secretAccessKey);
        if (!call.verified) {
          return fail({
            status: 403,
            code: 'SignatureDoesNotMatch',
            message:
              'The request signature we calculated does not match the signature you provided. ' +
              'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
          });
        }
      }
    }

    const current = (action !== undefined && perAction.get(action)) || defaultBehaviour;
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

    const result = (inner: string): void => {
      call.status = 200;
      sendXml(
        res,
        200,
        `<${action}Response xmlns="${XMLNS}">\n  <${action}Result>\n${inner}  </${action}Result>\n` +
          `  <ResponseMetadata>\n    <RequestId>${randomUUID()}</RequestId>\n  </ResponseMetadata>\n` +
          `</${action}Response>\n`,
      );
    };

    switch (action) {
      case 'GetCallerIdentity': {
        const who = identity as StsIdentity;
        return result(
          `    <Arn>${xml(who.arn)}</Arn>\n    <UserId>${xml(who.userId)}</UserId>\n` +
            `    <Account>${xml(who.account)}</Account>\n`,
        );
      }
      case 'AssumeRole':
      case 'AssumeRoleWithWebIdentity': {
        const roleArn = params.RoleArn ?? '';
        const sessionName = params.RoleSessionName ?? '';
        const match = /^arn:(aws[a-z-]*):iam::([0-9]{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
        if (!match) {
          return fail({ code: 'ValidationError', message: `${roleArn} is invalid` });
        }
        if (!sessionName) {
          return fail({
            code: 'ValidationError',
            message:
              "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint",
          });
        }
        if (action === 'AssumeRoleWithWebIdentity' && !params.WebIdentityToken) {
          return fail({ code: 'InvalidIdentityToken', message: 'Missing web identity token' });
        }
        const [, partition, account, roleName] = match;
        const roleId = `AROA${randomBytes(8).toString('hex').toUpperCase()}`;
        const arn = `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`;
        const issued = {
          accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
          secretAccessKey: randomBytes(30).toString('base64'),
          sessionToken: randomBytes(64).toString('base64'),
          expiration: new Date(Date.now() + (call.durationSeconds ?? 3600) * 1000)
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z'),
        };
        call.issued = issued;
        recordIssuedKey(issued.accessKeyId, issued.secretAccessKey);
        identities.set(issued.accessKeyId, {
          arn,
          account,
          userId: `${roleId}:${sessionName}`,
          secretAccessKey: issued.secretAccessKey,
        });
        const webExtras =
          action === 'AssumeRoleWithWebIdentity'
            ? `    <SubjectFromWebIdentityToken>system:serviceaccount:default:ecr-login</SubjectFromWebIdentityToken>\n` +
              `    <Audience>sts.amazonaws.com</Audience>\n    <Provider>oidc.example.test</Provider>\n`
            : '';
        return result(
          `    <AssumedRoleUser>\n      <Arn>${xml(arn)}</Arn>\n` +
            `      <AssumedRoleId>${xml(roleId)}:${xml(sessionName)}</AssumedRoleId>\n    </AssumedRoleUser>\n` +
            `    <Credentials>\n      <AccessKeyId>${issued.accessKeyId}</AccessKeyId>\n` +
            `      <SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey>\n` +
            `      <SessionToken>${issued.sessionToken}</SessionToken>\n` +
            `      <Expiration>${issued.expiration}</Expiration>\n    </Credentials>\n` +
            webExtras,
        );
      }
      default:
        return fail({
          code: 'InvalidAction',
          message: `Could not find operation ${action ?? '(none)'} for version ${params.Version}`,
        });
    }
  }

  const port = await listenLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    identities,
    setBehaviour(behaviour, action) {
      if (action) perAction.set(action, copy(behaviour));
      else {
        perAction.clear();
        defaultBehaviour = copy(behaviour);
      }
    },
    close: lifecycle.close,
  };
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

function xml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

function copy(behaviour: StsBehaviour): StsBehaviour {
  return typeof behaviour === 'object' ? { ...behaviour } : behaviour;
}
