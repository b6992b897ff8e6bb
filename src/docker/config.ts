/**
 * Docker-style JSON config files (`~/.docker/config.json`, containers `auth.json`): where they
 * are, reading them without losing anything, planning the `credHelpers` edit, and replacing the
 * file atomically with a backup. Nothing here prints; `configure` decides what to say.
 *
 * Facts the plan relies on (docker CLI 28.2.2 and skopeo 1.9.3 checked by hand, see README):
 * - docker looks up `credHelpers[<bare host>]` first, then `credsStore`, then `auths`; when the
 *   helper answers, its credentials replace any `auths` entry for the host. A stale `auths` token
 *   is still sent when the helper fails with an error other than "credentials not found".
 * - a `credHelpers` key with a scheme or path (`https://host`) never matches: clients look up the
 *   bare host.
 * - containers/image (podman, skopeo, buildah) reads its auth files in order and, within a file,
 *   `credHelpers` before `auths`; an `auths` entry in an earlier file wins over a helper in a later one.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { expandHome as expandHomePath } from '../home';
import { hostOf } from '../registry';

export const HELPER_NAME = 'ecr-login';

export type JsonObject = Record<string, unknown>;

/** A config file problem the operator must fix; the message is one line naming the file. */
export class ConfigError extends Error {}

export type TargetKind = 'docker' | 'podman';

export interface Target {
  path: string;
  kind: TargetKind;
  /** Why this file: which variable or default chose it. */
  source: string;
  /** podman only: the auth file containers/image reads before this one, if any. */
  readFirst?: string;
}

/** The operator commands need a home for ~/.docker; without one they say so. */
function home(env: NodeJS.ProcessEnv): string {
  return expandHome('~', env);
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  const expanded = expandHomePath(path, env);
  if (expanded === undefined) throw new Error('no home directory: set HOME or DOCKER_CONFIG');
  return expanded;
}

/** Where docker reads its config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerTarget(env: NodeJS.ProcessEnv): Target {
  if (env.DOCKER_CONFIG) {
    return {
      path: resolve(expandHome(env.DOCKER_CONFIG, env), 'config.json'),
      kind: 'docker',
      source: '$DOCKER_CONFIG',
    };
  }
  return { path: join(home(env), '.docker', 'config.json'), kind: 'docker', source: 'default' };
}

/**
 * The containers auth file to write for podman, skopeo and buildah: `$REGISTRY_AUTH_FILE` when set
 * (their `--authfile` default), else the persistent `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`,
 * which they read on every lookup. Their read-write default, `$XDG_RUNTIME_DIR/containers/auth.json`
 * (`/run/containers/$UID/auth.json` without XDG_RUNTIME_DIR), lives on a tmpfs that is emptied at
 * logout or reboot, so it is only checked, as the file read first, for entries that would shadow us.
 */
export function podmanTarget(env: NodeJS.ProcessEnv, uid = process.getuid?.() ?? 0): Target {
  if (env.REGISTRY_AUTH_FILE) {
    return {
      path: resolve(expandHome(env.REGISTRY_AUTH_FILE, env)),
      kind: 'podman',
      source: '$REGISTRY_AUTH_FILE',
    };
  }
  const configHome = env.XDG_CONFIG_HOME || join(home(env), '.config');
  const runtime = env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')
    : `/run/containers/${uid}/auth.json`;
  return {
    path: resolve(configHome, 'containers', 'auth.json'),
    kind: 'podman',
    source: env.XDG_CONFIG_HOME ? '$XDG_CONFIG_HOME' : 'default',
    readFirst: resolve(runtime),
  };
}

export function explicitTarget(path: string, kind: TargetKind, env: NodeJS.ProcessEnv): Target {
  return { path: resolve(expandHome(path, env)), kind, source: '--config' };
}

/** How the file was written, so that a rewrite changes only what the edit changes. */
export interface Style {
  /** undefined: one compact line. */
  indent: string | undefined;
  trailingNewline: boolean;
}

export interface LoadedConfig {
  path: string;
  /** The file a rename must replace: symlinks followed, as docker does. */
  realPath: string;
  exists: boolean;
  raw: Buffer | undefined;
  stat: Stats | undefined;
  data: JsonObject;
  style: Style;
}

/** docker and containers/image both write tab-indented JSON. */
const NEW_FILE_STYLE: Style = { indent: '\t', trailingNewline: true };

function describeErrno(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a component of the path is a file, not a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EISDIR':
      return 'it is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return e.message ?? String(err);
  }
}

function detectStyle(text: string): Style {
  const nested = /\n([ \t]+)\S/.exec(text);
  return {
    indent: nested ? nested[1] : text.trim().includes('\n') ? '\t' : undefined,
    trailingNewline: text.endsWith('\n'),
  };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // A dangling symlink: write where it points, like docker, rather than replace the link.
    try {
      if (lstatSync(path).isSymbolicLink()) return resolve(dirname(path), readlinkSync(path));
    } catch {
      // not there at all
    }
    return path;
  }
}

/** Read and parse a config file; a missing file reads as `{}`. Throws ConfigError. */
export function loadConfig(path: string): LoadedConfig {
  let stat: Stats | undefined;
  try {
    stat = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ConfigError(`cannot read ${path}: ${describeErrno(err)}`);
  }
  if (!stat) {
    return {
      path,
      realPath: resolveTarget(path),
      exists: false,
      raw: undefined,
      stat: undefined,
      data: {},
      style: NEW_FILE_STYLE,
    };
  }
  if (!stat.isFile()) throw new ConfigError(`cannot read ${path}: it is not a regular file`);
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${describeErrno(err)}`);
  }
  const text = raw.toString('utf8');
  let data: unknown = {};
  if (text.trim() !== '') {
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(
        `${path} is not valid JSON (${jsonErrorWithoutExcerpt(err)}); fix or move it, nothing was changed`,
      );
    }
  }
  if (!isObject(data)) throw new ConfigError(`${path} does not hold a JSON object; nothing was changed`);
  for (const key of ['credHelpers', 'auths']) {
    if (data[key] !== undefined && data[key] !== null && !isObject(data[key])) {
      throw new ConfigError(`${path}: "${key}" is not a JSON object; nothing was changed`);
    }
  }
  if (data.credsStore !== undefined && data.credsStore !== null && typeof data.credsStore !== 'string') {
    throw new ConfigError(`${path}: "credsStore" is not a string; nothing was changed`);
  }
  return {
    path,
    realPath: resolveTarget(path),
    exists: true,
    raw,
    stat,
    data,
    style: text.trim() === '' ? NEW_FILE_STYLE : detectStyle(text),
  };
}

export function serialize(data: JsonObject, style: Style): string {
  return JSON.stringify(data, null, style.indent) + (style.trailingNewline ? '\n' : '');
}

const SECRET_FIELDS = new Set(['auth', 'password', 'identitytoken', 'registrytoken']);

/** Whether an `auths` entry carries a credential (not just the `{}` docker leaves beside a helper). */
export function hasCredentials(entry: unknown): boolean {
  if (!isObject(entry)) return false;
  return Object.entries(entry).some(
    ([key, value]) => SECRET_FIELDS.has(key.toLowerCase()) && typeof value === 'string' && value !== '',
  );
}

/** Serialized config text with every secret field's value masked, for showing a diff. */
export function maskSecrets(text: string): string {
  return (
    text
      .replace(
        /("(auth|password|identitytoken|registrytoken)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
        (_m, prefix: string) => `${prefix}"<redacted>"`,
      )
      // a proxy URL's password: http://user:secret@proxy:3128
      .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s"]+:)[^@/\s"]+@/gi, '$1<redacted>@')
  );
}

/**
 * Why JSON.parse failed, without the excerpt of the file V8 quotes (which can be part of a saved
 * credential): only the position, when the message gives one.
 */
export function jsonErrorWithoutExcerpt(err: unknown): string {
  const message = (err as Error)?.message ?? '';
  const position = /position (\d+)|line (\d+) column (\d+)/.exec(message);
  if (!position) return 'not valid JSON';
  return position[1] ? `at position ${position[1]}` : `at line ${position[2]} column ${position[3]}`;
}

// ---------------------------------------------------------------------------------------------
// The edit

export interface PlanRequest {
  hosts: string[];
  /** Set `credsStore` too. */
  all: boolean;
  /** Remove shadowing or useless entries instead of warning about them. */
  fix: boolean;
  kind: TargetKind;
}

export interface Change {
  op: '+' | '-' | '~';
  text: string;
}

export interface Plan {
  next: JsonObject;
  changes: Change[];
  warnings: string[];
}

function quoteKey(section: string, key: string): string {
  return `${section}[${JSON.stringify(key)}]`;
}

/** Compute the new config. Pure: `data` is not modified, and key order is kept. */
export function planEdit(data: JsonObject, request: PlanRequest): Plan {
  const next = structuredClone(data);
  const changes: Change[] = [];
  const warnings: string[] = [];

  const helpers: Record<string, unknown> = isObject(next.credHelpers) ? next.credHelpers : {};
  if (request.hosts.length > 0) next.credHelpers = helpers;
  const auths: JsonObject = isObject(next.auths) ? next.auths : {};

  for (const host of request.hosts) {
    const current = helpers[host];
    if (current === undefined) {
      helpers[host] = HELPER_NAME;
      changes.push({ op: '+', text: `${quoteKey('credHelpers', host)} = "${HELPER_NAME}"` });
    } else if (current !== HELPER_NAME) {
      helpers[host] = HELPER_NAME;
      changes.push({
        op: '~',
        text: `${quoteKey('credHelpers', host)} = "${HELPER_NAME}" (was ${JSON.stringify(current)})`,
      });
    }

    for (const key of Object.keys(helpers)) {
      // docker and containers/image look up `host[:port]`; a key with a scheme or path never matches.
      if (key === host || !key.includes('/') || hostOf(key) !== host) continue;
      if (request.fix) {
        delete helpers[key];
        changes.push({
          op: '-',
          text: `${quoteKey('credHelpers', key)} (never used: clients look up "${host}")`,
        });
      } else {
        warnings.push(
          `${quoteKey('credHelpers', key)} is never used: clients look up the bare host "${host}"; --fix removes it`,
        );
      }
    }

    for (const key of Object.keys(auths)) {
      if (hostOf(key) !== host || !hasCredentials(auths[key])) continue;
      if (request.fix) {
        delete auths[key];
        changes.push({ op: '-', text: `${quoteKey('auths', key)} (a saved login token)` });
      } else if (request.kind === 'docker') {
        warnings.push(
          `${quoteKey('auths', key)} holds a saved \`docker login\` token. docker asks the helper first, ` +
            `but falls back to this token when a helper fails with an error, and some tools read auths ` +
            `directly; ECR tokens expire 12 hours after login. Remove it: --fix, or docker logout ${host}`,
        );
      } else {
        warnings.push(
          `${quoteKey('auths', key)} holds a saved login token for ${host}. podman and skopeo use credHelpers ` +
            `before auths in the same file, so it is unused, but it is a stale secret; --fix removes it`,
        );
      }
    }
  }

  if (request.all) {
    const store = next.credsStore;
    if (store !== HELPER_NAME) {
      next.credsStore = HELPER_NAME;
      if (typeof store === 'string' && store !== '') {
        changes.push({ op: '~', text: `credsStore = "${HELPER_NAME}" (was ${JSON.stringify(store)})` });
        warnings.push(
          `credsStore was "${store}": credentials saved in docker-credential-${store} stay there, but docker no ` +
            `longer asks it for registries without a credHelpers entry (Docker Hub included); the backup keeps ` +
            `the old setting`,
        );
      } else {
        changes.push({ op: '+', text: `credsStore = "${HELPER_NAME}"` });
      }
      warnings.push(
        `with credsStore = "${HELPER_NAME}" every registry goes to this helper: other registries get no ` +
          `credentials, and \`docker login\` to them fails (this helper keeps no passwords); prefer credHelpers per registry`,
      );
    }
  }

  return { next, changes, warnings };
}

/** Credential-carrying `auths` entries for `hosts` in another file (podman's read-first file). */
export function shadowingEntries(data: JsonObject, hosts: string[]): { key: string; host: string }[] {
  const helpers = isObject(data.credHelpers) ? data.credHelpers : {};
  const auths = isObject(data.auths) ? data.auths : {};
  const found: { key: string; host: string }[] = [];
  for (const host of hosts) {
    // A helper entry in the same file is consulted before its auths.
    if (helpers[host] !== undefined) continue;
    for (const key of Object.keys(auths)) {
      if (hostOf(key) === host && hasCredentials(auths[key])) found.push({ key, host });
    }
  }
  return found;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---------------------------------------------------------------------------------------------
// The write

function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export interface WriteResult {
  path: string;
  backup: string | undefined;
  mode: number;
  created: boolean;
}

/**
 * Replace the file with `text`: a temp file in the same directory, fsync, rename. The previous
 * content goes first to `<file>.bak-<UTC timestamp>` (mode 0600: it may hold credentials), the
 * file's mode and, for root, owner are kept; a new file is 0600 in a 0700 directory.
 * Throws ConfigError and leaves the existing file as it was.
 */
export function writeConfig(loaded: LoadedConfig, text: string, now = new Date()): WriteResult {
  const target = loaded.realPath;
  const dir = dirname(target);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`cannot create the directory ${dir}: ${describeErrno(err)}`);
  }

  if (loaded.exists) {
    let current: Stats;
    try {
      current = statSync(target);
    } catch (err) {
      throw new ConfigError(`cannot read ${target}: ${describeErrno(err)}`);
    }
    const before = loaded.stat;
    if (
      !before ||
      current.ino !== before.ino ||
      current.size !== before.size ||
      current.mtimeMs !== before.mtimeMs
    ) {
      throw new ConfigError(`${target} changed while it was being edited; nothing was written, run again`);
    }
  }

  const mode = loaded.stat ? loaded.stat.mode & 0o7777 : 0o600;
  let backup: string | undefined;
  let temp: string | undefined;
  try {
    if (loaded.exists && loaded.raw) {
      const base = `${target}.bak-${stamp(now)}`;
      for (let n = 0; backup === undefined; n++) {
        const candidate = n === 0 ? base : `${base}-${n}`;
        try {
          writeFileSync(candidate, loaded.raw, { flag: 'wx', mode: 0o600 });
          backup = candidate;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw err;
        }
      }
    }
    temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fchmodSync(fd, mode);
      if (loaded.stat && process.getuid?.() === 0) {
        try {
          fchownSync(fd, loaded.stat.uid, loaded.stat.gid);
        } catch {
          // keep root's ownership rather than fail the edit
        }
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    temp = undefined;
  } catch (err) {
    for (const leftover of [temp, backup]) {
      if (!leftover) continue;
      try {
        unlinkSync(leftover);
      } catch {
        // already gone
      }
    }
    throw new ConfigError(`cannot write ${target}: ${describeErrno(err)}; the file was not changed`);
  }
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // best effort: some file systems refuse fsync on a directory
  }
  return { path: target, backup, mode, created: !loaded.exists };
}
