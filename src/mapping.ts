/**
 * Per-registry identities: multi-account CI pulls from a central account's registry and pushes to
 * its own, each with a different AWS profile or role. Read from environment variables (for CI) and
 * from a small JSON file (for machines), the environment winning, a host entry before an account one.
 *
 *   AWS_ECR_PROFILE_<account>=central        AWS_ECR_ROLE_ARN_<account>=arn:aws:iam::…:role/…
 *   ~/.ecr/config.json (or AWS_ECR_CONFIG):
 *   { "registries": { "<host or account>": { "profile": "central" } | { "roleArn": "arn:…" } } }
 */
import { join } from 'node:path';
import type { Registry } from './registry';
import { readRegularFile, UntrustedPathError } from './safe-fs';

export interface Mapping {
  profile?: string;
  roleArn?: string;
  /** Where the mapping came from, for logs and `doctor`. */
  source: string;
}

export class MappingConfigError extends Error {}

export function mappingConfigPath(env: NodeJS.ProcessEnv, cacheDir: string | undefined): string | undefined {
  return env.AWS_ECR_CONFIG || (cacheDir && join(cacheDir, 'config.json'));
}

/** Far more than any mapping table; a larger file is not parsed at every pull. */
const MAPPING_FILE_LIMIT = 1024 * 1024;

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

function validated(value: unknown, source: string): Mapping {
  if (typeof value !== 'object' || value === null)
    throw new MappingConfigError(`${source}: expected an object`);
  const { profile, roleArn } = value as Record<string, unknown>;
  if (profile !== undefined && (typeof profile !== 'string' || profile === '')) {
    throw new MappingConfigError(`${source}: "profile" must be a profile name`);
  }
  if (roleArn !== undefined && (typeof roleArn !== 'string' || !ROLE_ARN.test(roleArn))) {
    throw new MappingConfigError(`${source}: "roleArn" must be an IAM role ARN`);
  }
  if (profile === undefined && roleArn === undefined) {
    throw new MappingConfigError(`${source}: give "profile" or "roleArn"`);
  }
  return { profile: profile as string | undefined, roleArn: roleArn as string | undefined, source };
}

function fromEnv(registry: Registry, env: NodeJS.ProcessEnv): Mapping | undefined {
  if (registry.service !== 'ecr') return undefined;
  const profileVar = `AWS_ECR_PROFILE_${registry.account}`;
  const roleVar = `AWS_ECR_ROLE_ARN_${registry.account}`;
  const profile = env[profileVar] || undefined;
  const roleArn = env[roleVar] || undefined;
  if (!profile && !roleArn) return undefined;
  const source = [profile && profileVar, roleArn && roleVar].filter(Boolean).join(' and ');
  return validated({ profile, roleArn }, source);
}

/**
 * The mapping file decides which identity signs, so it must be the user's own (or root's, for a
 * machine-wide AWS_ECR_CONFIG) and writable by nobody else: a planted or tampered file is refused
 * rather than ignored, since ignoring it would sign with another identity than the one configured.
 * A file this user cannot even see (a root-owned ~/.ecr after `sudo docker pull`) is not theirs
 * and counts as absent.
 */
function fromFile(registry: Registry, path: string | undefined, env: NodeJS.ProcessEnv): Mapping | undefined {
  if (!path) return undefined;
  let text: string;
  try {
    // A file named by AWS_ECR_CONFIG may be a symlink (a Kubernetes ConfigMap mount is one); the
    // file it leads to is what the owner rule judges.
    const follow = path === env.AWS_ECR_CONFIG;
    text = readRegularFile(path, { maxBytes: MAPPING_FILE_LIMIT, owner: 'self-or-root', follow }).toString(
      'utf8',
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return undefined;
    const fix = err instanceof UntrustedPathError ? `; fix: ${err.fix}` : '';
    throw new MappingConfigError(`${(err as Error).message}${fix}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MappingConfigError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const registries = (parsed as { registries?: unknown })?.registries;
  if (registries === undefined) return undefined;
  if (typeof registries !== 'object' || registries === null) {
    throw new MappingConfigError(`${path}: "registries" must be an object`);
  }
  const table = registries as Record<string, unknown>;
  for (const key of [registry.host, registry.service === 'ecr' ? registry.account : undefined]) {
    if (key && table[key] !== undefined) return validated(table[key], `${path} registries["${key}"]`);
  }
  return undefined;
}

export function mappingFor(
  registry: Registry,
  env: NodeJS.ProcessEnv,
  cacheDir: string | undefined,
): Mapping | undefined {
  return fromEnv(registry, env) ?? fromFile(registry, mappingConfigPath(env, cacheDir), env);
}
