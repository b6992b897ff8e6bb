/**
 * The on-disk cache: one small JSON file in a 0700 directory, replaced atomically (temp file and
 * rename), merged under a lock so that concurrent writers for different registries all survive.
 * A file that cannot be read or parsed, or is of another format, is treated as empty and rebuilt.
 */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { hash } from '../hash';
import type { Logger } from '../log';
import { checkTrustedDir, readRegularFile } from '../safe-fs';
import { freshness, isCacheEntry, isPlausible, type CacheEntry } from './entry';
import { acquireLock } from './lock';
import type { TokenCache } from './token-cache';

export const CACHE_FORMAT = 'ecr-login-cache/1';
/** Not the Go helper's `cache.json`, so both helpers can share ~/.ecr during a migration. */
export const CACHE_FILE = 'token-cache.json';
/** A few hundred registries take tens of kilobytes; a larger file is not ours and not parsed. */
export const CACHE_FILE_LIMIT = 1024 * 1024;

interface CacheFile {
  format: string;
  entries: Record<string, CacheEntry>;
}

function entryKey(identity: string, host: string): string {
  return `${identity}/${host}`;
}

export interface FileCacheOptions {
  dir: string;
  logger: Logger;
  /** How long to wait for another process's fetch of the same token. */
  lockWaitMs: number;
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
      return { format: CACHE_FORMAT, entries: {} };
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
      return { format: CACHE_FORMAT, entries };
    } catch (err) {
      this.options.logger.warn('ignoring unreadable cache file; it will be rebuilt', {
        file: this.file,
        reason: (err as Error).message,
      });
      return { format: CACHE_FORMAT, entries: {} };
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

  async put(identity: string, entry: CacheEntry): Promise<void> {
    await this.update((entries) => {
      entries[entryKey(identity, entry.host)] = entry;
    });
  }

  async remove(host: string): Promise<void> {
    // `docker logout` of a registry we hold nothing for writes nothing (and creates no directory).
    if (!Object.values(this.read().entries).some((entry) => entry.host === host)) return;
    await this.update((entries) => {
      for (const [key, entry] of Object.entries(entries)) if (entry.host === host) delete entries[key];
    });
  }

  async singleFlight<T>(
    identity: string,
    host: string,
    ready: () => boolean,
    fetch: () => Promise<T>,
  ): Promise<T | undefined> {
    const name = hash(entryKey(identity, host)).slice(0, 24);
    let result;
    try {
      this.ensureDir();
      result = await acquireLock(join(this.options.dir, `fetch-${name}.lock`), {
        waitMs: this.options.lockWaitMs,
        staleMs: this.options.lockWaitMs,
        satisfied: () => {
          this.snapshot = undefined;
          return ready();
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
      this.options.logger.warn('gave up waiting for another process fetching the same token', { host });
      return fetch();
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

  /** Read-modify-write of the latest file under the cache lock, dropping expired entries. */
  private async update(change: (entries: Record<string, CacheEntry>) => void): Promise<void> {
    this.ensureDir();
    const lock = await acquireLock(`${this.file}.lock`, { waitMs: 2_000, staleMs: 5_000 });
    try {
      const latest = this.read();
      change(latest.entries);
      const now = Date.now();
      for (const [key, entry] of Object.entries(latest.entries)) {
        if (freshness(entry, now) === 'expired') delete latest.entries[key];
      }
      this.writeAtomically(JSON.stringify(latest));
      this.snapshot = latest;
    } finally {
      if (lock.kind === 'acquired') lock.lock.release();
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
