/** What every command works with, built once from the environment. */
import { FileCache } from './cache/file-cache';
import { NullCache, type TokenCache } from './cache/token-cache';
import { resolveIdentity, type Identity } from './identity';
import { createLogger, type Logger } from './log';
import { mappingFor } from './mapping';
import { tellUser } from './protocol';
import { addSecretsFromEnv } from './redact';
import type { Registry } from './registry';
import { resolveTrustedDir, type UntrustedPathError } from './safe-fs';
import { loadSettings, type Settings } from './settings';

export interface Context {
  env: NodeJS.ProcessEnv;
  settings: Settings;
  logger: Logger;
  cache: TokenCache;
  /** The cache directory when the helper may keep things in it (cache, log, code cache). */
  stateDir: string | undefined;
  /**
   * Where the default mapping file (config.json) is read from: the cache directory, unless it
   * belongs to someone else (their planted file must neither steer nor stop our answers).
   */
  mappingDir: string | undefined;
  /** What the trust rule refused (the cache directory, the log), for doctor. */
  refused: UntrustedPathError[];
}

/**
 * A cache directory that fails the trust rule (another user's, or writable by others) costs the
 * cache, the log and the code cache, never the answer; the user is told once, with the fix.
 */
export function createContext(env: NodeJS.ProcessEnv = process.env): Context {
  addSecretsFromEnv(env);
  const settings = loadSettings(env);
  const refused: UntrustedPathError[] = [];
  const resolved = settings.cacheDir ? resolveTrustedDir(settings.cacheDir) : undefined;
  const dirProblem = resolved?.problem;
  if (dirProblem) {
    refused.push(dirProblem);
    const what = dirProblem.path === settings.cacheDir ? dirProblem.problem : dirProblem.message;
    tellUser(`ecr-login: not using the cache in ${settings.cacheDir}: ${what}; fix: ${dirProblem.fix}`);
  }
  const stateDir = dirProblem ? undefined : resolved?.dir;
  const othersDir = dirProblem && ['owner', 'link', 'parent'].includes(dirProblem.kind);
  const mappingDir = othersDir ? undefined : resolved?.dir;
  const logger = createLogger(settings, stateDir, (problem) => refused.push(problem));
  const cache =
    settings.cacheDisabled || !stateDir
      ? new NullCache()
      : new FileCache({ dir: stateDir, logger, lockStaleMs: settings.lockStaleMs });
  return { env, settings, logger, cache, stateDir, mappingDir, refused };
}

/** Where the npm bin may keep V8's code for the SDK: the trusted cache directory, unless caching is off. */
export function codeCacheRoot(ctx: Context): string | undefined {
  return ctx.settings.cacheDisabled ? undefined : ctx.stateDir;
}

/** The identity that signs for this registry: the default chain, or the profile or role mapped to it. */
export function identityFor(ctx: Context, registry: Registry): Identity {
  return resolveIdentity(ctx.env, mappingFor(registry, ctx.env, ctx.mappingDir));
}
