/**
 * A lock file shared by processes: created with O_EXCL, holding the owner's pid, host and PID
 * namespace, and kept alive by a heartbeat (the holder touches it while it works). A waiter stays
 * patient while the heartbeat is fresh, however slow the machine; a lock whose holder died (same
 * host and namespace) or whose heartbeat stopped is taken over by exactly one waiter (O_EXCL),
 * never by all of them.
 */
import {
  closeSync,
  futimesSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import { readRegularFile } from '../safe-fs';

export interface Lock {
  release(): void;
}

export interface AcquireOptions {
  /** Give up after this long, however alive the holder looks. */
  waitMs: number;
  /** A lock whose heartbeat is older than this is taken over whoever holds it. */
  staleMs: number;
  /** Checked before every wait: when it returns true the wait ends without the lock. */
  satisfied?: () => boolean;
}

export type AcquireResult = { kind: 'acquired'; lock: Lock } | { kind: 'satisfied' } | { kind: 'timeout' };

/** The owner record is one short line; anything longer is not a lock we wrote. */
const OWNER_LIMIT = 512;
/** Back-off between looks at a held lock: from a few milliseconds to this, with jitter. */
const MAX_POLL_MS = 250;
const FIRST_POLL_MS = 4;
/** A lock file that is still empty this long after its creation lost its writer (killed, ENOSPC). */
const EMPTY_GRACE_MS = 1_000;
/** While the same holder works, the caller's condition is checked this often. */
const SATISFIED_EVERY_MS = 1_000;
const RUNNING_TRUST = 4;

/** How often a holder refreshes its lock for a given staleness limit: several beats per limit. */
export function heartbeatMs(staleMs: number): number {
  return Math.max(50, Math.floor(staleMs / 5));
}

function tryCreate(path: string, staleMs: number): Lock | undefined {
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
  } catch (err) {
    // A full disk: leave no empty lock behind for every later process to wait on.
    closeSync(fd);
    unlinkQuietly(path);
    throw err;
  }
  const beat = setInterval(() => {
    try {
      const now = new Date();
      futimesSync(fd, now, now);
    } catch {
      // the file was taken over or removed; release() sorts it out
    }
  }, heartbeatMs(staleMs));
  beat.unref();
  return {
    release() {
      clearInterval(beat);
      closeSync(fd);
      // Only remove the lock if it is still ours (it may have been taken over as stale).
      if (readOwner(path) === owner) unlinkQuietly(path);
    },
  };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export function processIsAlive(pid: number): boolean {
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
export const pidNamespace = (): string => (namespace ??= readPidNamespace());

/**
 * What can be seen of a lock's holder from here: only a process on this host in this PID namespace
 * can be seen at all. Stopped (SIGSTOP, a debugger) counts as gone: it makes no progress.
 */
export type HolderState = 'unseen' | 'running' | 'gone';

export function holderState(pid: number, host: string | undefined, ns: string | undefined): HolderState {
  if (host !== hostname() || ns !== pidNamespace() || !(pid > 0)) return 'unseen';
  if (!processIsAlive(pid)) return 'gone';
  return isStopped(pid) ? 'gone' : 'running';
}

function isStopped(pid: number): boolean {
  try {
    // procfs, not a file anyone can plant: "pid (comm) S ...", the state after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'T' || state === 't' || state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/** The owner record, or undefined when there is none (gone) or it is not a file we could have written. */
function readOwner(path: string): string | undefined {
  try {
    return readRegularFile(path, { maxBytes: OWNER_LIMIT, owner: 'self' }).toString('utf8');
  } catch {
    return undefined;
  }
}

function lockStats(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * A holder that is gone (dead or stopped), an unseen holder (another host or container) silent for
 * staleMs, or an empty file left by a crash. A running holder we can see may miss heartbeats while
 * it is starved of CPU or compiles the SDK (synchronous work): it is trusted for RUNNING_TRUST
 * times as long, and its own budget ends its work long before that.
 */
function isStale(stats: Stats, owner: string | undefined, staleMs: number): boolean {
  const age = Date.now() - stats.mtimeMs;
  if (owner === '') return age > EMPTY_GRACE_MS;
  if (owner === undefined) return age > staleMs;
  const [pid, host, ns] = owner.split(' ');
  switch (holderState(Number(pid), host, ns)) {
    case 'gone':
      return true;
    case 'running':
      return age > RUNNING_TRUST * staleMs;
    case 'unseen':
      return age > staleMs;
  }
}

/**
 * Remove a stale lock without removing a fresh one that replaced it in the meantime: move it aside,
 * and if what was moved is not what was judged stale, put it back.
 */
function breakStaleLock(path: string, staleOwner: string | undefined): boolean {
  const aside = `${path}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch {
    return false;
  }
  try {
    if (readOwner(aside) !== staleOwner) linkSync(aside, path);
  } catch {
    // someone else holds a new lock now; theirs wins
  } finally {
    unlinkQuietly(aside);
  }
  return true;
}

/** Exponential back-off with full jitter, so hundreds of waiters never wake in step. */
export function nextPollMs(attempt: number, random = Math.random()): number {
  const ceiling = Math.min(MAX_POLL_MS, FIRST_POLL_MS * 1.6 ** attempt);
  return Math.max(1, Math.round(ceiling * (0.5 + random / 2)));
}

/**
 * Remove a lock its holder left behind (dead, silent past staleMs, or empty after a crash); a lock
 * in use is left alone. For the housekeeping of the next write.
 */
export function removeIfAbandoned(path: string, staleMs: number): void {
  const stats = lockStats(path);
  if (!stats) return;
  const owner = readOwner(path);
  if (isStale(stats, owner, staleMs)) breakStaleLock(path, owner);
}

export async function acquireLock(path: string, options: AcquireOptions): Promise<AcquireResult> {
  const deadline = Date.now() + options.waitMs;
  let seen: { ino: number; owner: string | undefined } | undefined;
  let lastSatisfiedCheck = 0;
  for (let attempt = 0; ; attempt++) {
    const lock = tryCreate(path, options.staleMs);
    if (lock) return { kind: 'acquired', lock };
    const stats = lockStats(path);
    if (!stats) continue; // released between our two looks: try again at once
    const changedHands = seen?.ino !== stats.ino;
    const current = changedHands || !seen ? { ino: stats.ino, owner: readOwner(path) } : seen;
    seen = current;
    if (isStale(stats, current.owner, options.staleMs) && breakStaleLock(path, current.owner)) {
      seen = undefined;
      continue;
    }
    // The cache is worth reading when the lock changed hands (or at the first look), and now and
    // then besides; in between, while one holder works, a look costs an open and a stat.
    const now = Date.now();
    if (changedHands || now - lastSatisfiedCheck >= SATISFIED_EVERY_MS) {
      lastSatisfiedCheck = now;
      if (options.satisfied?.()) return { kind: 'satisfied' };
    }
    if (Date.now() >= deadline) return { kind: 'timeout' };
    const pause = Math.min(nextPollMs(attempt), Math.max(1, deadline - Date.now()));
    await new Promise((r) => setTimeout(r, pause));
  }
}
