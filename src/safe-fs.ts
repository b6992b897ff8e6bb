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
  statSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';

/** A file or directory the trust rule refuses, with what is wrong and the command that fixes it. */
export class UntrustedPathError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly fix: string,
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

/**
 * Why `stats` (of `path`) fails the rule, or undefined when it passes: owned by us and not
 * writable by group or others.
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
      `sudo chown -R "$(id -u)" ${path}`,
    );
  }
  if ((stats.mode & 0o022) !== 0) {
    return new UntrustedPathError(
      path,
      `writable by group or others (mode ${modeText(stats.mode)})`,
      `chmod go-w ${path}`,
    );
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
    return new UntrustedPathError(path, `cannot be examined (${code ?? 'error'})`, `ls -ld ${path}`);
  }
  if (!stats.isDirectory()) {
    return new UntrustedPathError(path, 'is not a directory', `mv ${path} ${path}.bak`);
  }
  return trustProblem(path, stats);
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
    if (stats.isSymbolicLink()) return new UntrustedPathError(path, 'is a symbolic link', `rm ${path}`);
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
      throw new UntrustedPathError(path, 'is a symbolic link', `rm ${path}`);
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
