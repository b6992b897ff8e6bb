/**
 * The on-disk cache: one small JSON file in a 0700 directory, replaced atomically (temp file and
 * rename), merged under a lock so that concurrent writers for different registries all survive.
 * A file that cannot be read or parsed, or is of another format, is treated as empty and rebuilt.
 */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { hash } from '../hash';
import type { Logger } from '../log';
import { checkTrustedDir, readRegularFile } from '../safe-fs';
import { isRefreshFailure, type RefreshFailure } from './backoff';
import { freshness, isCacheEntry, isPlausible, type CacheEntry } from './entry';
import { acquireLock, removeIfAbandoned } from './lock';
import type { TokenCache } from './token-cache';

export const CACHE_FORMAT = 'ecr-login-cache/1';
/** Not the Go helper's `cache.json`, so both helpers can share ~/.ecr during a migration. */
export const CACHE_FILE = 'token-cache.json';
/** A few hundred registries take tens of kilobytes; a larger file is not ours and not parsed. */
export const CACHE_FILE_LIMIT = 1024 * 1024;

interface CacheFile {
  format: string;
  entries: Record<string, CacheEntry>;
  /** The last failed refresh per entry key, while it matters (see backoff.ts). */
  failures: Record<string, RefreshFailure>;
}

const empty = (): CacheFile => ({ format: CACHE_FORMAT, entries: {}, failures: {} });

/** A failure with no token behind it only tells the waiters of that one fetch; kept this long. */
const LONE_FAILURE_MS = 60_000;
/** The cache merge holds its lock for milliseconds: a holder silent this long is gone. */
const MERGE_STALE_MS = 2_000;
const MERGE_WAIT_MS = 3_000;
/** A temp file is renamed milliseconds after its creation: one this old was left by a crash. */
const TEMP_STALE_MS = 10_000;

function entryKey(identity: string, host: string): string {
  return `${identity}/${host}`;
}

export interface FileCacheOptions {
  dir: string;
  logger: Logger;
  /** How long a fetching process may go without a heartbeat before another takes over. */
  lockStaleMs: number;
}

export class FileCache implements TokenCache {
  readonly file: string;
  private snapshot: CacheFile | undefined;

  constructor(private readonly options: FileCacheOptions) {
    this.file = join(options.dir, CACHE_FILE);
  }

  private read(): CacheFile {
    let text: string;
    try {
      text = readRegularFile(this.file, { maxBytes: CACHE_FILE_LIMIT, owner: 'self' }).toString('utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.logger.warn('ignoring the cache file; it will be rebuilt', {
          reason: (err as Error).message,
        });
      }
      return empty();
    }
    try {
      const parsed = JSON.parse(text) as Partial<CacheFile>;
      if (parsed.format !== CACHE_FORMAT || typeof parsed.entries !== 'object' || parsed.entries === null) {
        throw new Error(`unknown format ${String(parsed.format)}`);
      }
      const entries: Record<string, CacheEntry> = {};
      const now = Date.now();
      for (const [key, value] of Object.entries(parsed.entries))
        if (isCacheEntry(value) && isPlausible(value, now) && key.endsWith(`/${value.host}`))
          entries[key] = value;
      const failures: Record<string, RefreshFailure> = {};
      if (typeof parsed.failures === 'object' && parsed.failures !== null)
        for (const [key, value] of Object.entries(parsed.failures))
          if (isRefreshFailure(value) && value.failedAt <= now + 60_000) failures[key] = value;
      return { format: CACHE_FORMAT, entries, failures };
    } catch (err) {
      this.options.logger.warn('ignoring unreadable cache file; it will be rebuilt', {
        file: this.file,
        reason: (err as Error).message,
      });
      return empty();
    }
  }

  private current(): CacheFile {
    return (this.snapshot ??= this.read());
  }

  get(identity: string, host: string): CacheEntry | undefined {
    return this.current().entries[entryKey(identity, host)];
  }

  entries(): { identity: string; entry: CacheEntry }[] {
    return Object.entries(this.current().entries).map(([key, entry]) => ({
      identity: key.slice(0, key.indexOf('/')),
      entry,
    }));
  }

  failure(identity: string, host: string): RefreshFailure | undefined {
    return this.current().failures[entryKey(identity, host)];
  }

  async put(identity: string, entry: CacheEntry): Promise<void> {
    await this.update((file) => {
      const key = entryKey(identity, entry.host);
      file.entries[key] = entry;
      delete file.failures[key];
    });
  }

  async putFailure(identity: string, host: string, failure: RefreshFailure): Promise<void> {
    await this.update((file) => {
      file.failures[entryKey(identity, host)] = failure;
    });
  }

  async remove(host: string): Promise<void> {
    // `docker logout` of a registry we hold nothing for writes nothing (and creates no directory).
    if (!Object.values(this.read().entries).some((entry) => entry.host === host)) return;
    const forget = (file: CacheFile) => {
      for (const [key, entry] of Object.entries(file.entries)) {
        if (entry.host !== host) continue;
        delete file.entries[key];
        delete file.failures[key];
      }
    };
    try {
      await this.update(forget);
    } catch (err) {
      // A full disk cannot take the smaller file; dropping the whole cache needs no space, and a
      // token the user logged out of must not outlive the logout.
      this.options.logger.warn('could not rewrite the cache; removing it', {
        reason: (err as Error).message,
      });
      unlinkSync(this.file);
    }
  }

  async singleFlight<T>(
    identity: string,
    host: string,
    ready: () => boolean,
    fetch: () => Promise<T>,
    waitMs: number,
  ): Promise<T | undefined> {
    const name = hash(entryKey(identity, host)).slice(0, 24);
    let result;
    try {
      this.ensureDir();
      result = await acquireLock(join(this.options.dir, `fetch-${name}.lock`), {
        waitMs,
        staleMs: this.options.lockStaleMs,
        // Not waiting at all: another process's fetch is as good as ours.
        satisfied: () => {
          this.snapshot = undefined;
          return waitMs <= 0 || ready();
        },
      });
    } catch (err) {
      // An unwritable cache directory costs the coordination, not the token.
      this.options.logger.warn('cannot lock in the cache directory; fetching without it', {
        reason: (err as Error).message,
      });
      return fetch();
    }
    if (result.kind === 'satisfied') return undefined;
    if (result.kind === 'timeout') {
      // Never fetch beside a holder that is still alive: a herd would all call ECR at once.
      this.options.logger.warn('gave up waiting for another process fetching the same token', { host });
      return undefined;
    }
    try {
      // Another process may have finished its fetch between our first look and taking the lock.
      this.snapshot = undefined;
      if (ready()) return undefined;
      return await fetch();
    } finally {
      result.lock.release();
    }
  }

  /** Created 0700 when absent; checked again, since it may have appeared since the context looked. */
  private ensureDir(): void {
    mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
    const problem = checkTrustedDir(this.options.dir);
    if (problem) throw problem;
  }

  /**
   * Read-modify-write of the latest file under the cache lock, dropping expired entries. Without
   * the lock nothing is written: a merge that raced another would lose its entries.
   */
  private async update(change: (file: CacheFile) => void): Promise<void> {
    this.ensureDir();
    const lock = await acquireLock(`${this.file}.lock`, { waitMs: MERGE_WAIT_MS, staleMs: MERGE_STALE_MS });
    if (lock.kind !== 'acquired') {
      this.options.logger.debug('cache lock busy; not writing the cache this time');
      return;
    }
    try {
      this.removeLeftovers();
      const latest = this.read();
      change(latest);
      const now = Date.now();
      for (const [key, entry] of Object.entries(latest.entries)) {
        if (freshness(entry, now) === 'expired') delete latest.entries[key];
      }
      for (const [key, failure] of Object.entries(latest.failures)) {
        if (!latest.entries[key] && now - failure.failedAt > LONE_FAILURE_MS) delete latest.failures[key];
      }
      this.writeAtomically(JSON.stringify(latest));
      this.snapshot = latest;
    } finally {
      lock.lock.release();
    }
  }

  /** Temp files and locks that killed processes left behind; run under the cache lock. */
  private removeLeftovers(): void {
    let names: string[];
    try {
      names = readdirSync(this.options.dir);
    } catch {
      return;
    }
    const now = Date.now();
    for (const name of names) {
      const path = join(this.options.dir, name);
      if (name.startsWith(`${CACHE_FILE}.`) && name.endsWith('.tmp')) {
        try {
          if (now - lstatSync(path).mtimeMs > TEMP_STALE_MS) unlinkSync(path);
        } catch {
          // gone already
        }
      } else if (name.startsWith('fetch-') && name.endsWith('.lock')) {
        removeIfAbandoned(path, this.options.lockStaleMs);
      }
    }
  }

  private writeAtomically(text: string): void {
    const temp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      const fd = openSync(temp, 'wx', 0o600);
      try {
        fchmodSync(fd, 0o600);
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.file);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      throw err;
    }
  }
}
