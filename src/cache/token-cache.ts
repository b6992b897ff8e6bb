/**
 * The token cache behind an interface, with a file implementation and a null one for
 * AWS_ECR_DISABLE_CACHE, so that callers never branch on whether caching is on.
 */
import type { RefreshFailure } from './backoff';
import type { CacheEntry } from './entry';

export interface TokenCache {
  /** The file behind the cache; undefined when caching is off. */
  readonly file?: string;
  /** The entry this identity holds for this registry host, whatever its freshness. */
  get(identity: string, host: string): CacheEntry | undefined;
  /** Every entry, with the identity that holds it. */
  entries(): { identity: string; entry: CacheEntry }[];
  /** The last failed refresh of this (identity, host), while it matters. */
  failure(identity: string, host: string): RefreshFailure | undefined;
  /** Merge one entry into the cache as it is now on disk; a fresh token clears any failure. */
  put(identity: string, entry: CacheEntry): Promise<void>;
  /** Remember a failed refresh, for the back-off and for processes waiting on the same fetch. */
  putFailure(identity: string, host: string, failure: RefreshFailure): Promise<void>;
  /** Forget a registry host for every identity. */
  remove(host: string): Promise<void>;
  /**
   * Run `fetch` as the one process fetching this (identity, host); a process that finds another
   * already fetching waits for it and returns undefined once `ready()` holds, or after `waitMs`
   * (at once for 0).
   * A holder that stops showing life is taken over by one waiter, never by all.
   */
  singleFlight<T>(
    identity: string,
    host: string,
    ready: () => boolean,
    fetch: () => Promise<T>,
    waitMs: number,
  ): Promise<T | undefined>;
}

export class NullCache implements TokenCache {
  get(): undefined {
    return undefined;
  }
  entries(): { identity: string; entry: CacheEntry }[] {
    return [];
  }
  failure(): undefined {
    return undefined;
  }
  async put(): Promise<void> {}
  async putFailure(): Promise<void> {}
  async remove(): Promise<void> {}
  singleFlight<T>(
    _identity: string,
    _host: string,
    _ready: () => boolean,
    fetch: () => Promise<T>,
  ): Promise<T> {
    return fetch();
  }
}
