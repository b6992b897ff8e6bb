/**
 * Files another local user may have put in our way. On a shared CI host a cache directory, a log
 * or an AWS config path can be a symlink, a FIFO or a file someone else owns. The rule, after
 * OpenSSH's StrictModes: what the helper keeps (cache, locks, log, code cache) is used only when it
 * is owned by the current uid and not writable by group or others; every open refuses symlinks and
 * never blocks; only regular files are read.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { homeDir } from './home';

/** Why the trust rule refused a path: another owner, a mode others can write, a symlink, a parent
 * others can change, or not the kind of file expected. */
export type Refusal = 'owner' | 'mode' | 'link' | 'parent' | 'type';

/** A file or directory the trust rule refuses, with what is wrong and what fixes it. */
export class UntrustedPathError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly fix: string,
    readonly kind: Refusal,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'UntrustedPathError';
  }
}

/** A FIFO, device, socket or directory where a file was expected: reading it could block forever. */
export class NotRegularFileError extends Error {
  constructor(readonly path: string) {
    super(`${path} is not a regular file`);
    this.name = 'NotRegularFileError';
  }
}

export class FileTooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly limit: number,
  ) {
    super(`${path} is larger than ${limit} bytes`);
    this.name = 'FileTooLargeError';
  }
}

const uid = (): number | undefined => process.getuid?.();

/** Who may own a file the helper trusts: itself, or also root (a machine-wide file an admin wrote). */
export type Owner = 'self' | 'self-or-root';

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Taking ownership is the fix only for what root left in the user's own home (one `sudo -E docker
 * pull`): adopting another user's directory would make whatever they planted in it ours.
 */
function ownerFix(path: string, stats: Stats): string {
  const home = homeDir();
  if (stats.uid === 0 && home && isInside(path, home)) return `sudo chown -R "$(id -u)" ${path}`;
  return `use a directory of your own (set AWS_ECR_CACHE_DIR, or mv ${path} ${path}.untrusted if it is in yours); never chown another user's files`;
}

/**
 * Why `stats` (of `path`) fails the rule, or undefined when it passes: owned by us (or root, where
 * allowed), not writable by group or others, and with no other hard link to it (a link another
 * user made to one of our files elsewhere must not become a file we write through).
 */
export function trustProblem(
  path: string,
  stats: Stats,
  owner: Owner = 'self',
): UntrustedPathError | undefined {
  const me = uid();
  if (me !== undefined && stats.uid !== me && !(owner === 'self-or-root' && stats.uid === 0)) {
    return new UntrustedPathError(
      path,
      `owned by uid ${stats.uid} (mode ${modeText(stats.mode)}), not by this user (uid ${me})`,
      ownerFix(path, stats),
      'owner',
    );
  }
  if ((stats.mode & 0o022) !== 0) {
    return new UntrustedPathError(
      path,
      `writable by group or others (mode ${modeText(stats.mode)})`,
      `chmod go-w ${path}`,
      'mode',
    );
  }
  if (!stats.isDirectory() && stats.nlink > 1) {
    return new UntrustedPathError(path, `has ${stats.nlink} hard links`, `rm ${path}`, 'link');
  }
  return undefined;
}

/**
 * A directory the helper keeps its state in: it must be a directory (a symlink to one is followed:
 * its target is what is judged), ours, and not writable by others. Undefined when it does not
 * exist yet.
 */
export function checkTrustedDir(path: string): UntrustedPathError | undefined {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return new UntrustedPathError(path, `cannot be examined (${code ?? 'error'})`, `ls -ld ${path}`, 'type');
  }
  if (!stats.isDirectory()) {
    return new UntrustedPathError(path, 'is not a directory', `mv ${path} ${path}.bak`, 'type');
  }
  return trustProblem(path, stats);
}

/**
 * The cache directory as a real path that nobody else can redirect: resolved once (every later
 * open uses the result, so a symlink swapped after the check changes nothing), with every existing
 * ancestor owned by root or us and not writable by others unless sticky (like /tmp, where others
 * cannot rename what is ours), no symlink of another user's on the way, and the directory itself,
 * when it exists, passing checkTrustedDir. A directory that does not exist yet resolves through its
 * nearest existing ancestor.
 */
export function resolveTrustedDir(path: string): { dir: string; problem?: UntrustedPathError } {
  const given = resolve(path);
  try {
    const link = lstatSync(given);
    const me = uid();
    if (link.isSymbolicLink() && me !== undefined && link.uid !== me && link.uid !== 0) {
      const fix = `use a directory of your own (set AWS_ECR_CACHE_DIR)`;
      const problem = `is a symbolic link owned by uid ${link.uid}`;
      return { dir: given, problem: new UntrustedPathError(given, problem, fix, 'link') };
    }
  } catch {
    // absent: judged through its ancestors below
  }
  let existing = given;
  const missing: string[] = [];
  for (;;) {
    try {
      existing = realpathSync(existing);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || dirname(existing) === existing) {
        const problem = new UntrustedPathError(
          existing,
          `cannot be resolved (${code ?? 'error'})`,
          `ls -ld ${existing}`,
          'type',
        );
        return { dir: given, problem };
      }
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
  const dir = join(existing, ...missing);
  const me = uid();
  for (let ancestor = missing.length > 0 ? existing : dirname(existing); ; ancestor = dirname(ancestor)) {
    const stats = statSync(ancestor);
    const writableByOthers = (stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0;
    if ((me !== undefined && stats.uid !== me && stats.uid !== 0) || writableByOthers) {
      const problem = `${ancestor}, a directory above it, can be changed by another user (uid ${stats.uid}, mode ${modeText(stats.mode)})`;
      return {
        dir,
        problem: new UntrustedPathError(
          dir,
          problem,
          'use a directory of your own (set AWS_ECR_CACHE_DIR)',
          'parent',
        ),
      };
    }
    if (dirname(ancestor) === ancestor) break;
  }
  return { dir, problem: missing.length > 0 ? undefined : checkTrustedDir(dir) };
}

/**
 * A directory and everything in it down to `depth` levels: each entry ours, not writable by
 * others, and no symlinks. The first problem found, or undefined.
 */
export function checkTrustedTree(dir: string, depth: number): UntrustedPathError | undefined {
  const problem = checkTrustedDir(dir);
  if (problem || depth === 0) return problem;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stats = lstatSync(path);
    if (stats.isSymbolicLink())
      return new UntrustedPathError(path, 'is a symbolic link', `rm ${path}`, 'link');
    const inner = stats.isDirectory() ? checkTrustedTree(path, depth - 1) : trustProblem(path, stats);
    if (inner) return inner;
  }
  return undefined;
}

/** Flags that never follow a symlink in the last component and never wait on a FIFO's writer. */
const NO_FOLLOW = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Open without following a symlink or blocking, and check what was opened: a regular file, and
 * (with `owner`) one that passes the trust rule. Errors: ENOENT and the like as thrown by open,
 * UntrustedPathError (a symlink, another owner), NotRegularFileError.
 */
function openChecked(
  path: string,
  flags: number,
  owner: Owner | undefined,
  follow = false,
): { fd: number; stats: Stats } {
  let fd: number;
  try {
    fd = openSync(path, flags | (follow ? constants.O_NONBLOCK : NO_FOLLOW));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new UntrustedPathError(path, 'is a symbolic link', `rm ${path}`, 'link');
    }
    throw err;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotRegularFileError(path);
    const problem = owner ? trustProblem(path, stats, owner) : undefined;
    if (problem) throw problem;
    return { fd, stats };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * `follow`: the user's own configuration (~/.aws/config kept in a dotfiles repository) may be a
 * symlink; what it points to must still be a regular file.
 */
export interface ReadOptions {
  owner?: Owner;
  follow?: boolean;
}

export function openRegular(path: string, options: ReadOptions = {}): { fd: number; stats: Stats } {
  return openChecked(path, constants.O_RDONLY, options.owner, options.follow);
}

/** The whole of a regular file, at most `maxBytes` (checked before reading, so a huge file costs nothing). */
export function readRegularFile(path: string, options: ReadOptions & { maxBytes: number }): Buffer {
  const { fd, stats } = openRegular(path, options);
  try {
    if (stats.size > options.maxBytes) throw new FileTooLargeError(path, options.maxBytes);
    const buffer = Buffer.alloc(stats.size);
    let offset = 0;
    while (offset < buffer.length) {
      const n = readSync(fd, buffer, offset, buffer.length - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * A file the helper writes, created if absent: never through a symlink, and when it exists already
 * it must be a regular file that passes the trust rule. Returns whether this call created it, so
 * that only a file the helper just made is ever chmodded.
 */
export function openOwnedForWriting(
  path: string,
  flags: number,
  mode = 0o600,
): { fd: number; created: boolean } {
  try {
    return {
      fd: openSync(path, flags | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, mode),
      created: true,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { fd: openChecked(path, flags, 'self').fd, created: false };
}
