/**
 * Read-only questions about docker's config for `doctor`: which credential store docker will ask
 * for a host, and whether the helper is on PATH. The docker CLI's configfile picks
 * `credHelpers[<bare host>]` first, then `credsStore`, then the static `auths` file store; a
 * credHelpers key spelled `https://host` is never looked up.
 */
import { accessSync, closeSync, constants, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ConfigError, dockerTarget, hasCredentials, HELPER_NAME, isObject, loadConfig } from './config';
import { hostOf, parseRegistry } from '../registry';

export interface DockerRouting {
  /** True when docker will ask ecr-login for this host. */
  routed: boolean;
  configFile: string;
  detail: string;
}

function table(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

export function dockerRouting(env: NodeJS.ProcessEnv, host: string): DockerRouting {
  const configFile = dockerTarget(env).path;
  const result = (routed: boolean, detail: string) => ({
    routed,
    configFile,
    detail: `${detail} (${configFile})`,
  });
  let data;
  try {
    const loaded = loadConfig(configFile);
    if (!loaded.exists) return result(false, 'no docker config: nothing routes this host to ecr-login');
    data = loaded.data;
  } catch (err) {
    return result(false, `docker cannot use its config: ${(err as ConfigError).message}`);
  }
  const helpers = table(data.credHelpers);
  const auths = table(data.auths);
  const staleAuths = Object.entries(auths).some(
    ([key, value]) => hostOf(key) === host && hasCredentials(value),
  );
  const staleNote = staleAuths
    ? '; an `auths` entry from an old `docker login` is unused and can be removed'
    : '';
  const helper = helpers[host];
  if (helper === HELPER_NAME) return result(true, `credHelpers routes it to ecr-login${staleNote}`);
  if (typeof helper === 'string')
    return result(false, `credHelpers routes it to docker-credential-${helper}, not ecr-login`);
  const misspelt = Object.keys(helpers).find((key) => key !== host && hostOf(key) === host);
  if (misspelt) {
    return result(
      false,
      `the credHelpers key "${misspelt}" is never looked up: docker uses the bare host "${host}"`,
    );
  }
  if (data.credsStore === HELPER_NAME)
    return result(true, `credsStore ecr-login answers for every registry${staleNote}`);
  if (typeof data.credsStore === 'string' && data.credsStore) {
    return result(
      false,
      `credsStore sends it to docker-credential-${data.credsStore}; add a credHelpers entry for it`,
    );
  }
  if (staleAuths) {
    return result(
      false,
      'docker uses the static password an old `docker login` stored in `auths` (it expires after 12 hours); ' +
        'add a credHelpers entry and remove the `auths` one',
    );
  }
  return result(false, 'nothing routes this host to ecr-login: add a credHelpers entry for it');
}

/** Every ECR host the docker config mentions, for `doctor` without arguments. */
export function ecrHostsInDockerConfig(env: NodeJS.ProcessEnv): string[] {
  let data;
  try {
    data = loadConfig(dockerTarget(env).path).data;
  } catch {
    return [];
  }
  const keys = [...Object.keys(table(data.credHelpers)), ...Object.keys(table(data.auths))];
  return [...new Set(keys.map((k) => parseRegistry(k)?.host).filter((h): h is string => !!h))];
}

/** The first executable file of that name on PATH, as docker's exec lookup finds it. */
export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Byte-for-byte equality, a megabyte at a time: the single executable is over 100 MB. */
function sameContent(a: string, b: string, size: number): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const chunk = 1024 * 1024;
    const ba = Buffer.alloc(chunk);
    const bb = Buffer.alloc(chunk);
    for (let offset = 0; offset < size; offset += chunk) {
      const na = readSync(fa, ba, 0, chunk, offset);
      const nb = readSync(fb, bb, 0, chunk, offset);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) break;
    }
    return true;
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

function sameProgram(a: string, b: string): boolean {
  try {
    const ra = realpathSync(a);
    const rb = realpathSync(b);
    if (ra === rb) return true;
    const sa = statSync(ra);
    const sb = statSync(rb);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    // Two copies of the same file (an executable copied to /usr/local/bin) are the same program.
    return (sa.dev === sb.dev && sa.ino === sb.ino) || sameContent(ra, rb, sa.size);
  } catch {
    return false;
  }
}

export interface HelperOnPath {
  /** The executable docker will run, if any. */
  found?: string;
  /** Whether that is this program (and not, say, Amazon's Go helper earlier on PATH). */
  isThisProgram: boolean;
  self: string;
}

export function helperOnPath(env: NodeJS.ProcessEnv, name = 'docker-credential-ecr-login'): HelperOnPath {
  const found = findOnPath(name, env.PATH);
  // The script node runs, or for the single executable the executable itself (its argv[1] is
  // whatever name the shell was given).
  const candidates = [process.argv[1], process.execPath].filter((p): p is string => !!p);
  const self = candidates.find((p) => isAbsolute(p)) ?? process.execPath;
  return { found, isThisProgram: !!found && candidates.some((c) => sameProgram(found, c)), self };
}
