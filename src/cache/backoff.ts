/**
 * Riding out an ECR outage. When a refresh fails for a token that is still valid, the failure is
 * remembered (in the cache, per identity and registry) and the cached token is served at once for
 * a back-off period, 1 minute doubling to 10, never past the token's own expiry; after it, one
 * `get` tries again. Without this every pull of an outage would pay the whole budget.
 */
import { freshness, usableUntil, type CacheEntry } from './entry';

export interface RefreshFailure {
  /** Epoch milliseconds of the failed attempt. */
  failedAt: number;
  /** Until then the cached token is served without trying ECR. */
  retryAt: number;
  /** Failed attempts in a row. */
  attempts: number;
  /** The line the failing `get` printed, for waiters of the same fetch and for doctor. */
  reason: string;
}

export const FIRST_BACKOFF_MS = 60_000;
export const MAX_BACKOFF_MS = 10 * 60_000;
const REASON_LIMIT = 500;

/** A token that may stand in for a refresh: past its half-life, not yet expired, a real token. */
export function canServeStale(entry: CacheEntry | undefined, now = Date.now()): entry is CacheEntry {
  return !!entry && !entry.anonymous && freshness(entry, now) === 'stale';
}

/**
 * What to remember after a failed refresh. Only a failure that a cached token may cover earns a
 * back-off (`covered`: a passing fault, and a token to serve); otherwise the next get tries again.
 */
export function recordFailure(
  previous: RefreshFailure | undefined,
  entry: CacheEntry | undefined,
  reason: string,
  covered: boolean,
  now = Date.now(),
): RefreshFailure {
  const attempts = (previous?.attempts ?? 0) + 1;
  const period = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempts - 1));
  const retryAt = covered && canServeStale(entry, now) ? Math.min(now + period, usableUntil(entry)) : now;
  return { failedAt: now, retryAt, attempts, reason: reason.slice(0, REASON_LIMIT) };
}

/** Serve the cached token now, without trying ECR: a recent failure's back-off is still running. */
export function inBackoff(failure: RefreshFailure | undefined, now = Date.now()): boolean {
  return !!failure && now < failure.retryAt;
}

export function isRefreshFailure(value: unknown): value is RefreshFailure {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.failedAt === 'number' &&
    typeof v.retryAt === 'number' &&
    typeof v.attempts === 'number' &&
    typeof v.reason === 'string' &&
    v.retryAt >= v.failedAt &&
    v.retryAt - v.failedAt <= MAX_BACKOFF_MS
  );
}
