/**
 * The network half of `doctor`: resolve credentials, ask STS who they belong to, and try
 * GetAuthorizationToken, recording each step's outcome instead of stopping at the first failure.
 * Imports the SDK, so like src/ecr.ts it is loaded only when needed.
 */
import { request } from 'node:http';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { httpSettings, requestToken, resolveCredentials, tokenEndpoint, type FetchOptions } from './ecr';
import type { Registry } from '../registry';

export interface ErrorSummary {
  name: string;
  message: string;
}

export interface Probe {
  endpoint: string;
  /** The access key id of the credentials the chain resolved (not a secret, but shown masked). */
  accessKeyId?: string;
  credentialsError?: ErrorSummary;
  callerArn?: string;
  callerError?: ErrorSummary;
  tokenExpiresAt?: number;
  tokenError?: ErrorSummary;
  /** When the instance profile failed: what the IMDSv2 session-token request did. */
  imdsTokenRequest?: 'answered' | 'timed out' | string;
}

/**
 * Ask IMDS for a session token directly, to tell a hop-limit drop (the PUT times out inside a
 * container) from IMDS being off or unreachable.
 */
export function checkImdsToken(endpoint: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      new URL('/latest/api/token', endpoint),
      { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' }, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? 'answered' : `answered HTTP ${res.statusCode}`);
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve('timed out');
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`failed: ${err.code ?? err.message}`));
    req.end();
  });
}

function summarize(err: unknown): ErrorSummary {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as Partial<Error>;
  return { name: e.name ?? 'Error', message: (e.message ?? '').split('\n')[0] };
}

export async function probe(
  registry: Registry,
  options: FetchOptions,
  imdsEndpoint?: string,
): Promise<Probe> {
  const result: Probe = { endpoint: await tokenEndpoint(registry, options) };
  let credentials;
  try {
    credentials = await resolveCredentials(registry, options);
    result.accessKeyId = credentials.accessKeyId;
  } catch (err) {
    result.credentialsError = summarize(err);
    if (imdsEndpoint) {
      result.imdsTokenRequest = await checkImdsToken(imdsEndpoint, Math.min(options.connectTimeoutMs, 2_000));
    }
    return result;
  }
  const sts = new STSClient({
    region: registry.region,
    credentials,
    maxAttempts: 2,
    ...httpSettings(options),
  });
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: options.signal });
    result.callerArn = me.Arn;
  } catch (err) {
    result.callerError = summarize(err);
  } finally {
    sts.destroy();
  }
  try {
    result.tokenExpiresAt = (await requestToken(registry, options, credentials)).expiresAt;
  } catch (err) {
    result.tokenError = summarize(err);
  }
  return result;
}
