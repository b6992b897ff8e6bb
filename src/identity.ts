/**
 * Which credentials would sign the ECR call, as a stable fingerprint for the token cache.
 *
 * Computed from the environment and the shared config files only: a cache hit must not pay for
 * credential resolution (IMDS, ECS, STS round trips). The order mirrors the SDK's default chain:
 * env keys (unless AWS_PROFILE is set), the profile, web identity, container credentials, IMDS.
 * Secret values never enter it: an access key ID names its key pair (and, for ASIA keys, the
 * session), so the fingerprint needs no cryptographic hash.
 */
import { hostname } from 'node:os';
import { hash } from './hash';
import { configFilePath, credentialsFilePath, loadSharedConfig, type SharedConfig } from './ini';
import type { Mapping } from './mapping';
import { addSecret } from './redact';
import { readSdkFile } from './aws/sdk-files';

export type IdentityKind = 'env' | 'profile' | 'web-identity' | 'container' | 'instance-profile' | 'none';

export interface Identity {
  kind: IdentityKind;
  /** What a person needs to recognise the source; never a secret. */
  label: string;
  /** Why this source wins the chain, for `doctor`. */
  reason: string;
  /** Hex digest; equal fingerprints mean the same signer. */
  fingerprint: string;
  /** The per-registry profile or role that applied, if any. */
  mapping?: Mapping;
}

const ECS_HOST = 'http://169.254.170.2';
const IMDS_DEFAULT = 'http://169.254.169.254';

function digest(parts: unknown): string {
  return hash(JSON.stringify(parts));
}

/** Secret values stay out of the fingerprint: a key ID already names its key pair and session. */
const SECRET_KEYS = new Set(['aws_secret_access_key', 'aws_session_token', 'aws_security_token']);

function withoutSecrets(profile: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(profile).filter(([key]) => !SECRET_KEYS.has(key)));
}

/**
 * ECS puts a per-task secret-ish UUID in the credentials path (anyone on the task's network who
 * knows it gets the role); logs and terminals get only its start.
 */
export function maskCredentialsPath(uri: string): string {
  return uri.replace(/\/([0-9a-f-]{8})[0-9a-f-]{12,}$/i, '/$1…');
}

export function maskKeyId(keyId: string): string {
  return keyId.length > 8 ? `${keyId.slice(0, 4)}…${keyId.slice(-4)}` : '…';
}

/** The SDK's tests for a profile that resolves to credentials (static, role, web identity, SSO, process, login). */
function yieldsCredentials(profile: Record<string, string> | undefined): boolean {
  if (!profile) return false;
  const has = (key: string) => !!profile[key];
  return (
    (has('aws_access_key_id') && has('aws_secret_access_key')) ||
    (has('role_arn') &&
      (has('source_profile') || has('credential_source') || has('web_identity_token_file'))) ||
    ['sso_start_url', 'sso_account_id', 'sso_session', 'sso_region', 'sso_role_name'].some(has) ||
    has('credential_process') ||
    has('login_session')
  );
}

/** The profile and everything it borrows from (source_profile chain, sso-session), for hashing. */
function profileClosure(config: SharedConfig, name: string): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<string>();
  let next: string | undefined = name;
  while (next && !seen.has(next)) {
    seen.add(next);
    const profile: Record<string, string> = config.profiles.get(next) ?? {};
    out.push(next, withoutSecrets(profile));
    if (profile.sso_session) out.push(config.ssoSessions.get(profile.sso_session) ?? {});
    next = profile.source_profile;
  }
  return out;
}

function describeProfile(name: string, profile: Record<string, string>): string {
  if (profile.role_arn) return `profile "${name}" (assumes ${profile.role_arn})`;
  if (profile.sso_session || profile.sso_start_url) return `profile "${name}" (IAM Identity Center)`;
  if (profile.credential_process) return `profile "${name}" (credential_process)`;
  if (profile.aws_access_key_id) return `profile "${name}" (key ${maskKeyId(profile.aws_access_key_id)})`;
  return `profile "${name}"`;
}

/**
 * The subject of a projected service-account token (EKS Pod Identity), which stays the same when
 * kubelet rotates the token; falls back to the token's hash when it is not a JWT.
 */
function tokenSubject(token: string): string {
  const payload = token.trim().split('.')[1];
  if (payload) {
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      if (typeof claims.sub === 'string') return `sub:${claims.sub}`;
    } catch {
      // not a JWT
    }
  }
  return `hash:${digest(token)}`;
}

function containerAuthorization(env: NodeJS.ProcessEnv): string {
  const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  if (file) {
    const token = readSdkFile(file, 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE').trim();
    addSecret(token);
    return token ? tokenSubject(token) : `unreadable:${file}`;
  }
  return env.AWS_CONTAINER_AUTHORIZATION_TOKEN ? tokenSubject(env.AWS_CONTAINER_AUTHORIZATION_TOKEN) : '';
}

/**
 * A configured identity that cannot be had. Never answered by falling back to another source: that
 * would sign with an identity the user did not choose for this registry.
 */
export class IdentityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityConfigError';
  }
}

function sharedFilesText(env: NodeJS.ProcessEnv): string {
  const files = [configFilePath(env), credentialsFilePath(env)].filter(Boolean);
  return files.length > 0 ? files.join(' or ') : 'the shared config files (there is no home directory)';
}

function chainIdentity(env: NodeJS.ProcessEnv): Identity {
  const profileName = env.AWS_PROFILE;
  if (!profileName && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      kind: 'env',
      label: `environment (AWS_ACCESS_KEY_ID ${maskKeyId(env.AWS_ACCESS_KEY_ID)})`,
      reason: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set and AWS_PROFILE is not',
      fingerprint: digest(['env', env.AWS_ACCESS_KEY_ID]),
    };
  }

  const config = loadSharedConfig(env);
  const name = profileName || 'default';
  // Sources below the profile do not depend on it, but a wrong guess about which profile the SDK
  // would use must never make two different setups share a cache key.
  const setup = [profileName ?? '', configFilePath(env), credentialsFilePath(env)];
  const profile = config.profiles.get(name);
  // The SDK would go on down the chain (to a task or instance role); the AWS CLI refuses, and so do we.
  if (profileName && !profile) {
    throw new IdentityConfigError(
      `profile ${profileName} not found (AWS_PROFILE) in ${sharedFilesText(env)}`,
    );
  }
  if (yieldsCredentials(profile)) {
    return {
      kind: 'profile',
      label: describeProfile(name, profile!),
      reason: profileName
        ? `AWS_PROFILE=${profileName}, found in the shared config files`
        : 'the default profile in the shared config files has credentials',
      fingerprint: digest(['profile', ...profileClosure(config, name)]),
    };
  }

  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) {
    return {
      kind: 'web-identity',
      label: `web identity (assumes ${env.AWS_ROLE_ARN})`,
      reason: 'AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are set (IRSA or another OIDC federation)',
      fingerprint: digest(['web-identity', env.AWS_ROLE_ARN, env.AWS_ROLE_SESSION_NAME ?? '', ...setup]),
    };
  }

  const containerUri = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
    ? ECS_HOST + env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
    : env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (containerUri) {
    return {
      kind: 'container',
      label: `container credentials (${maskCredentialsPath(containerUri)})`,
      reason: env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
        ? 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set: the ECS task role'
        : 'AWS_CONTAINER_CREDENTIALS_FULL_URI is set: EKS Pod Identity or a custom credentials endpoint',
      fingerprint: digest(['container', containerUri, containerAuthorization(env), ...setup]),
    };
  }

  // Exactly as the SDK: any value but the string "false" disables IMDS.
  const imdsDisabled = !!env.AWS_EC2_METADATA_DISABLED && env.AWS_EC2_METADATA_DISABLED !== 'false';
  if (imdsDisabled) {
    return {
      kind: 'none',
      label: 'no credential source',
      reason: 'no keys, profile, web identity or container credentials, and AWS_EC2_METADATA_DISABLED is set',
      fingerprint: digest(['none', ...setup]),
    };
  }
  const endpoint = env.AWS_EC2_METADATA_SERVICE_ENDPOINT || IMDS_DEFAULT;
  return {
    kind: 'instance-profile',
    label: `EC2 instance profile (${endpoint})`,
    reason:
      'no keys, profile, web identity or container credentials are configured: the instance metadata service is last',
    // The same cache directory may be shared by several machines (a home on NFS).
    fingerprint: digest(['instance-profile', endpoint, hostname(), ...setup]),
  };
}

/**
 * A mapped profile must exist and hold credentials: below it, the chain would go on to the
 * ambient identity (env keys, a task or instance role), which the mapping exists to replace.
 */
function checkMappedProfile(env: NodeJS.ProcessEnv, mapping: Mapping, name: string): void {
  const profile = loadSharedConfig(env).profiles.get(name);
  const what = `${mapping.source} maps this registry to profile ${name}`;
  if (!profile) throw new IdentityConfigError(`${what}, which is not in ${sharedFilesText(env)}`);
  if (!yieldsCredentials(profile)) {
    throw new IdentityConfigError(
      `${what}, which has no credentials (no keys, role_arn with a source, SSO, credential_process or login session)`,
    );
  }
}

/** The identity that signs for a registry: the default chain, or the profile or role mapped to it. */
export function resolveIdentity(env: NodeJS.ProcessEnv = process.env, mapping?: Mapping): Identity {
  if (!mapping) return chainIdentity(env);
  if (mapping.profile) checkMappedProfile(env, mapping, mapping.profile);
  const base = chainIdentity(mapping.profile ? { ...env, AWS_PROFILE: mapping.profile } : env);
  if (!mapping.roleArn)
    return { ...base, reason: `${mapping.source} maps this registry to the profile`, mapping };
  return {
    kind: base.kind,
    label: `${base.label}, assuming ${mapping.roleArn}`,
    reason: `${mapping.source} maps this registry to the role; ${base.reason}`,
    fingerprint: digest([base.fingerprint, 'assume', mapping.roleArn]),
    mapping,
  };
}
