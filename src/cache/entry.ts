/** One cached token and when it may be used. */
import { parseRegistry } from '../registry';

export interface CacheEntry {
  /** Registry host (lower case, no port): what `list` reports and `erase` matches. */
  host: string;
  service: 'ecr' | 'ecr-public';
  username: string;
  password: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
  /**
   * ECR Public when no AWS credentials exist at all: there is no token, and the pull goes
   * anonymous. Remembered briefly so that each pull does not wait again on credential sources
   * that are not there (IMDS off EC2 takes seconds to fail).
   */
  anonymous?: boolean;
}

export type Freshness = 'fresh' | 'stale' | 'expired';

/**
 * Fresh until half the token's lifetime has passed (as the Go helper does), then stale: refresh,
 * but still good to serve when the refresh fails. Expired a little before the real expiry so that
 * a pull that starts with the token can finish with it.
 */
export function freshness(entry: CacheEntry, now = Date.now()): Freshness {
  const lifetime = entry.expiresAt - entry.issuedAt;
  if (!(lifetime > 0) || now >= usableUntil(entry)) return 'expired';
  if (now < freshUntil(entry)) return 'fresh';
  return 'stale';
}

/** When the token turns stale: half its lifetime after it was issued. */
export function freshUntil(entry: CacheEntry): number {
  return entry.issuedAt + (entry.expiresAt - entry.issuedAt) / 2;
}

/** The last moment the token is served: a little before its real expiry. */
export function usableUntil(entry: CacheEntry): number {
  const lifetime = entry.expiresAt - entry.issuedAt;
  return entry.expiresAt - Math.min(5 * 60_000, lifetime / 10);
}

/** ECR's longest token lifetime; an entry claiming more was not written by us from an ECR answer. */
export const MAX_TOKEN_LIFETIME_MS = 12 * 3600_000;
/** Clock differences between machines sharing a cache directory (a home on NFS). */
const CLOCK_SKEW_MS = 5 * 60_000;

/** An anonymous ECR Public outcome is remembered for minutes, never hours. */
const MAX_ANONYMOUS_LIFETIME_MS = 30 * 60_000;

/**
 * An entry we could have written: for a host of its service, a lifetime no longer than ECR gives,
 * issued not in the future, and a password, unless it records an anonymous ECR Public outcome
 * (which only ECR Public has, and only briefly: a planted one must not silence a private registry).
 */
export function isPlausible(entry: CacheEntry, now = Date.now()): boolean {
  const lifetime = entry.expiresAt - entry.issuedAt;
  const maxLifetime = entry.anonymous ? MAX_ANONYMOUS_LIFETIME_MS : MAX_TOKEN_LIFETIME_MS + CLOCK_SKEW_MS;
  return (
    parseRegistry(entry.host)?.service === entry.service &&
    lifetime > 0 &&
    lifetime <= maxLifetime &&
    entry.issuedAt <= now + CLOCK_SKEW_MS &&
    (entry.anonymous === true
      ? entry.service === 'ecr-public'
      : entry.username !== '' && entry.password !== '')
  );
}

export function isCacheEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.host === 'string' &&
    (v.service === 'ecr' || v.service === 'ecr-public') &&
    typeof v.username === 'string' &&
    typeof v.password === 'string' &&
    typeof v.issuedAt === 'number' &&
    typeof v.expiresAt === 'number' &&
    (v.anonymous === undefined || typeof v.anonymous === 'boolean')
  );
}
