/**
 * A lock file shared by processes: created with O_EXCL, holding the owner's pid, host and PID
 * namespace so that a lock left by a killed process is recognised at once (same host and
 * namespace) or after `staleMs` (anywhere else).
 */
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';

export interface Lock {
  release(): void;
}

export interface AcquireOptions {
  /** Give up after this long; the caller then proceeds without the lock. */
  waitMs: number;
  /** A lock older than this is taken over whoever holds it. */
  staleMs: number;
  /** Polled while waiting: when it returns true the wait ends without the lock. */
  satisfied?: () => boolean;
}

export type AcquireResult = { kind: 'acquired'; lock: Lock } | { kind: 'satisfied' } | { kind: 'timeout' };

const POLL_MS = 25;

function tryCreate(path: string): Lock | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  const owner = `${process.pid} ${hostname()} ${pidNamespace()} ${Date.now()}`;
  try {
    writeSync(fd, owner);
  } finally {
    closeSync(fd);
  }
  return {
    release() {
      try {
        // Only remove the lock if it is still ours (it may have been taken over as stale).
        if (readFileSync(path, 'utf8') === owner) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Containers that share the host's name (`--network host`) and a mounted cache directory see other
 * PID numbers: a pid is only meaningful within its PID namespace.
 */
function readPidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid').replace(/\s/g, '');
  } catch {
    return '-';
  }
}

let namespace: string | undefined;
const pidNamespace = (): string => (namespace ??= readPidNamespace());

function isStale(path: string, content: string, staleMs: number): boolean {
  const [pid, host, ns] = content.split(' ');
  const sameSpace = host === hostname() && ns === pidNamespace();
  if (sameSpace && Number(pid) > 0 && !processIsAlive(Number(pid))) return true;
  try {
    return Date.now() - statSync(path).mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/**
 * Remove a stale lock without removing a fresh one that replaced it in the meantime: move it aside,
 * and if what was moved is not what was judged stale, put it back.
 */
function breakStaleLock(path: string, staleContent: string): void {
  const aside = `${path}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleContent) linkSync(aside, path);
  } catch {
    // someone else holds a new lock now; theirs wins
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // ignore
    }
  }
}

function readOwner(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function acquireLock(path: string, options: AcquireOptions): Promise<AcquireResult> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const lock = tryCreate(path);
    if (lock) return { kind: 'acquired', lock };
    if (options.satisfied?.()) return { kind: 'satisfied' };
    const owner = readOwner(path);
    if (owner !== undefined && isStale(path, owner, options.staleMs)) {
      breakStaleLock(path, owner);
      continue;
    }
    if (Date.now() >= deadline) return { kind: 'timeout' };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
