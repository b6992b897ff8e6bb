/**
 * The only module that imports the AWS SDK. It is built into its own bundle and loaded with
 * `require` on a cache miss, so that a cache hit never parses the SDK.
 */
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { caBundleContext } from './ca-bundle';
import type { Logger } from '../log';
import type { Mapping } from '../mapping';
import { ConnectProxyAgent, proxyUrl } from './proxy-agent';
import { addSecret } from '../redact';
import type { Registry } from '../registry';

export interface Token {
  username: string;
  password: string;
  issuedAt: number;
  expiresAt: number;
}

export interface FetchOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Aborts every request still in flight when the `get` budget is spent. */
  signal: AbortSignal;
  connectTimeoutMs: number;
  timeoutMs: number;
  /** A per-registry profile or role to sign with instead of the default chain's identity. */
  mapping?: Mapping;
  /** The credentials come from the ECS / EKS Pod Identity container endpoint. */
  containerCredentials?: boolean;
}

/** An ECR answer that cannot be used as a token. */
export class TokenFormatError extends Error {}

function decodeToken(encoded: string | undefined, expiresAt: Date | undefined, issuedAt: number): Token {
  const decoded = Buffer.from(encoded ?? '', 'base64').toString('utf8');
  addSecret(encoded);
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new TokenFormatError('GetAuthorizationToken returned a token that is not base64 user:password');
  }
  addSecret(decoded.slice(colon + 1));
  return {
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
    issuedAt,
    // ECR tokens last 12 hours; assume so if the service leaves the expiry out.
    expiresAt: expiresAt ? expiresAt.getTime() : issuedAt + 12 * 3600_000,
  };
}

function describe(args: unknown[]): string {
  const text = args
    .map((a) => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return `${a.name}: ${a.message}`;
      try {
        return JSON.stringify(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');
  return `sdk: ${text.slice(0, 1000)}`;
}

/** The SDK's logging, into our log (which redacts); its errors reach the user through describeFailure. */
function sdkLogger(logger: Logger) {
  return {
    debug: (...args: unknown[]) => logger.debug(describe(args)),
    info: (...args: unknown[]) => logger.debug(describe(args)),
    warn: (...args: unknown[]) => logger.warn(describe(args)),
    error: (...args: unknown[]) => logger.debug(describe(args)),
  };
}

/** Client settings shared by ECR, ECR Public and the STS/SSO clients the credential chain uses. */
export function httpSettings(options: Pick<FetchOptions, 'env' | 'connectTimeoutMs' | 'timeoutMs'>) {
  const secureContext = caBundleContext(options.env);
  const proxy = proxyUrl(options.env);
  const httpsAgent = proxy
    ? new ConnectProxyAgent({
        proxy,
        env: options.env,
        connectTimeoutMs: options.connectTimeoutMs,
        secureContext,
        keepAlive: true,
      })
    : { secureContext, keepAlive: true };
  return {
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs,
      requestTimeout: options.timeoutMs,
      // Without it a request past requestTimeout only logs a warning and keeps waiting.
      throwOnRequestTimeout: true,
      httpsAgent,
    },
  };
}

export type Phase = 'credentials' | 'token';
export type Credentials = Awaited<ReturnType<ReturnType<typeof fromNodeProviderChain>>>;

/** A per-registry mapping whose identity could not be had; named so that failure.ts can say so. */
export class MappedIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappedIdentityError';
  }
}

type Provider = () => Promise<Credentials>;

function explained(provider: Provider, what: string): Provider {
  return async () => {
    try {
      return await provider();
    } catch (err) {
      throw new MappedIdentityError(`${what}: ${((err as Error)?.message ?? String(err)).split('\n')[0]}`);
    }
  };
}

/** IMDS and the container endpoint are on the host or the link: they answer in milliseconds or
 * not at all, so one second and one retry each (a non-EC2 machine must not stall every pull). */
const remoteTimeoutMs = (options: FetchOptions) => Math.min(options.connectTimeoutMs, 1_000);
const REMOTE_RETRIES = 1;

/**
 * The SDK's default chain, or only the mapped profile: the chain would go on past a profile that
 * yields nothing to the ambient identity (env keys, a task or instance role), and a mapping exists
 * precisely so that identity does not sign for this registry. A mapped role is assumed on top.
 * Our timeouts and HTTP settings apply to the STS/SSO calls the providers make.
 */
export function credentialChain(region: string, options: FetchOptions): Provider {
  const clientConfig = { ...httpSettings(options), region };
  const logger = sdkLogger(options.logger);
  const mapping = options.mapping;
  const base = mapping?.profile
    ? explained(
        fromIni({ profile: mapping.profile, clientConfig, logger }),
        `${mapping.source} maps this registry to profile ${mapping.profile}, which yielded no credentials`,
      )
    : fromNodeProviderChain({
        timeout: remoteTimeoutMs(options),
        maxRetries: REMOTE_RETRIES,
        logger,
        clientConfig,
      });
  if (!mapping?.roleArn) return base;
  return explained(
    fromTemporaryCredentials({
      masterCredentials: base,
      params: { RoleArn: mapping.roleArn, RoleSessionName: 'ecr-login' },
      clientConfig,
    }),
    `${mapping.source} maps this registry to role ${mapping.roleArn}, which could not be assumed`,
  );
}

/** The client configuration for a registry: its region, and FIPS / dual-stack endpoints when the host is. */
export function clientConfig(registry: Registry, options: FetchOptions, credentials: Credentials) {
  return {
    region: registry.region,
    useFipsEndpoint: registry.fips,
    useDualstackEndpoint: registry.dualStack,
    // The SDK's default is 3 attempts; one more fits the budget. AWS_MAX_ATTEMPTS and
    // AWS_RETRY_MODE, when set, are the user's to decide, as in every other AWS tool.
    ...(options.env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 4 }),
    ...(options.env.AWS_RETRY_MODE ? {} : { retryMode: 'standard' }),
    logger: sdkLogger(options.logger),
    ...httpSettings(options),
    credentials,
  };
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** What a container endpoint that never answers looks like once its documented bound has passed. */
class ContainerEndpointTimeout extends Error {
  override name = 'CredentialsProviderError';
}

/**
 * The SDK's container provider only warns when its request timeout passes and keeps waiting; hold
 * it to the documented bound (each try and the pause between tries one timeout long).
 */
function boundedForContainer<T>(work: Promise<T>, options: FetchOptions): Promise<T> {
  if (!options.containerCredentials) return work;
  const limitMs = (2 * REMOTE_RETRIES + 1) * remoteTimeoutMs(options);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new ContainerEndpointTimeout(
            `the container credentials endpoint did not answer within ${limitMs / 1000}s (${REMOTE_RETRIES + 1} tries)`,
          ),
        ),
      limitMs,
    );
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

export async function resolveCredentials(registry: Registry, options: FetchOptions): Promise<Credentials> {
  const credentials = await abortable(
    boundedForContainer(credentialChain(registry.region, options)(), options),
    options.signal,
  );
  addSecret(credentials.secretAccessKey);
  addSecret(credentials.sessionToken);
  return credentials;
}

/** Where the SDK will send GetAuthorizationToken for this registry (an override, FIPS, dual-stack). */
export async function tokenEndpoint(registry: Registry, options: FetchOptions): Promise<string> {
  const env = options.env;
  const override =
    (registry.service === 'ecr-public' ? env.AWS_ENDPOINT_URL_ECR_PUBLIC : env.AWS_ENDPOINT_URL_ECR) ||
    env.AWS_ENDPOINT_URL;
  if (override && env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') return override;
  const config = clientConfig(registry, options, { accessKeyId: '', secretAccessKey: '' });
  const client = registry.service === 'ecr-public' ? new ECRPUBLICClient(config) : new ECRClient(config);
  try {
    const resolved = client.config.endpointProvider({
      Region: registry.region,
      UseFIPS: registry.fips,
      UseDualStack: registry.dualStack,
    });
    return resolved.url.toString();
  } finally {
    client.destroy();
  }
}

export async function requestToken(
  registry: Registry,
  options: FetchOptions,
  credentials: Credentials,
): Promise<Token> {
  const issuedAt = Date.now();
  const config = clientConfig(registry, options, credentials);
  if (registry.service === 'ecr-public') {
    const client = new ECRPUBLICClient(config);
    try {
      const out = await client.send(new GetPublicAuthorizationTokenCommand({}), {
        abortSignal: options.signal,
      });
      const data = out.authorizationData;
      return decodeToken(data?.authorizationToken, data?.expiresAt, issuedAt);
    } finally {
      client.destroy();
    }
  }
  const client = new ECRClient(config);
  try {
    const out = await client.send(new GetAuthorizationTokenCommand({ registryIds: [registry.account] }), {
      abortSignal: options.signal,
    });
    const data = out.authorizationData?.[0];
    return decodeToken(data?.authorizationToken, data?.expiresAt, issuedAt);
  } finally {
    client.destroy();
  }
}

/**
 * Credentials first, then the token, as two visible phases: when the budget runs out the user is
 * told which of the two hung (a credential endpoint or ECR itself).
 */
export async function fetchToken(
  registry: Registry,
  options: FetchOptions,
  onPhase: (phase: Phase) => void = () => {},
): Promise<Token> {
  onPhase('credentials');
  const credentials = await resolveCredentials(registry, options);
  onPhase('token');
  return requestToken(registry, options, credentials);
}
