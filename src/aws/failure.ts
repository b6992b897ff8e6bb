/**
 * Turning a failed token fetch into one line a person can act on. Works on error names and fields
 * only, so it needs no SDK import.
 */
import type { Identity } from '../identity';
import { redact } from '../redact';
import type { Registry } from '../registry';

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const REFUSALS = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidParameterException',
]);

/** What a `get` was doing: waiting on another process, resolving credentials, or calling ECR. */
export type Stage = 'lock' | 'credentials' | 'token';

const STAGE_TEXT: Record<Stage, string> = {
  lock: 'waiting for another ecr-login process fetching the same token',
  credentials: 'getting AWS credentials',
  token: 'calling ECR GetAuthorizationToken',
};

/** The `get` budget (AWS_ECR_TIMEOUT) ran out. */
export class BudgetExceededError extends Error {
  constructor(
    readonly budgetMs: number,
    readonly stage: Stage,
  ) {
    super(`timed out after ${budgetMs / 1000}s ${STAGE_TEXT[stage]}`);
    this.name = 'BudgetExceededError';
  }
}

function timeoutHint(identity: Identity, stage: Stage | undefined): string {
  if (stage === 'credentials' && identity.kind === 'instance-profile') {
    return '; inside a container, IMDSv2 needs an instance metadata hop limit of 2 (aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2)';
  }
  return '';
}

function asErrorLike(err: unknown): ErrorLike {
  return typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
}

/**
 * A still-valid cached token may stand in for a refresh that failed for a passing reason
 * (timeout, throttling, 5xx, network); not when AWS refused the identity, which must not keep
 * working from the cache.
 */
/** Errno codes of the network (and DNS), which passes: a cached token may stand in meanwhile. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEOUT',
  'ESERVFAIL',
  'EREFUSED',
  'EPIPE',
  'EPROTO',
]);

/**
 * This machine's own setup (a CA bundle that is not there, a file it may not read): no passing
 * fault, so no cached token stands in for it. Listed, so that anything unknown counts as passing.
 */
const LOCAL_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EISDIR',
  'ENOTDIR',
  'ELOOP',
  'ENAMETOOLONG',
  'EROFS',
]);

function isLocalSystemError(e: ErrorLike): boolean {
  return !!e.code && LOCAL_CODES.has(e.code);
}

export function mayServeStale(err: unknown): boolean {
  const e = asErrorLike(err);
  return !REFUSALS.has(e.name ?? '') && !isLocalSystemError(e);
}

export function describeFailure(err: unknown, registry: Registry, identity: Identity): string {
  const e = asErrorLike(err);
  const what = `ecr-login: no token for ${registry.host}`;
  const message = redact((e.message ?? '').split('\n')[0].trim());
  if (err instanceof BudgetExceededError) {
    return `${what}: ${err.message} (${identity.label})${timeoutHint(identity, err.stage)}`;
  }
  switch (e.name) {
    case 'MappedIdentityError':
    case 'IdentityConfigError':
    case 'BlockingFileError':
      return `${what}: ${message}`;
    case 'CredentialsProviderError':
      return identity.kind === 'none'
        ? `${what}: no AWS credentials found in env keys, profiles or web identity, and AWS_EC2_METADATA_DISABLED rules out the instance profile`
        : `${what}: no AWS credentials found (${message}); last source tried: ${identity.label}${timeoutHint(identity, 'credentials')}`;
    case 'AccessDeniedException':
    case 'AccessDenied':
      return `${what}: access denied: ${message} (the identity needs ecr:GetAuthorizationToken on *)`;
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'InvalidClientTokenId':
      return `${what}: AWS rejected the credentials from ${identity.label}: ${message}`;
    case 'ExpiredTokenException':
    case 'ExpiredToken':
      return `${what}: the session credentials from ${identity.label} have expired`;
    case 'TimeoutError':
    case 'AbortError':
      return `${what}: timed out (${message || 'no answer'}) using ${identity.label}`;
    default:
      if (e.code && NETWORK_CODES.has(e.code)) {
        return `${what}: network error ${e.code} (${message}) using ${identity.label}`;
      }
      if (isLocalSystemError(e)) return `${what}: ${message} (${identity.label})`;
      return `${what}: ${e.name ?? 'Error'}: ${message} (${identity.label})`;
  }
}
