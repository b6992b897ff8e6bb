import { describe, expect, it } from 'vitest';
import { canServeStale, inBackoff, MAX_BACKOFF_MS, recordFailure } from '../../src/cache/backoff';
import type { CacheEntry } from '../../src/cache/entry';

const HOUR = 3600_000;
const now = Date.now();
const token = (issuedHoursAgo: number): CacheEntry => ({
  host: 'h',
  service: 'ecr',
  username: 'AWS',
  password: 'p',
  issuedAt: now - issuedHoursAgo * HOUR,
  expiresAt: now - issuedHoursAgo * HOUR + 12 * HOUR,
});

describe('back-off through an outage', () => {
  it('serves only a real token past its half-life and before its expiry', () => {
    expect(canServeStale(token(7), now)).toBe(true);
    expect(canServeStale(token(1), now)).toBe(false);
    expect(canServeStale(token(12), now)).toBe(false);
    expect(canServeStale({ ...token(7), anonymous: true }, now)).toBe(false);
    expect(canServeStale(undefined, now)).toBe(false);
  });

  it('backs off 1 minute, doubling to 10, after failures a cached token covers', () => {
    let failure = undefined;
    const periods = [];
    for (let i = 0; i < 6; i++) {
      failure = recordFailure(failure, token(7), 'ecr-login: no token: timed out', true, now);
      periods.push((failure.retryAt - failure.failedAt) / 60_000);
    }
    expect(periods).toEqual([1, 2, 4, 8, 10, 10]);
    expect(inBackoff(failure, now + MAX_BACKOFF_MS - 1)).toBe(true);
    expect(inBackoff(failure, now + MAX_BACKOFF_MS)).toBe(false);
  });

  it('never backs off past the moment the cached token stops being served', () => {
    const nearlyExpired: CacheEntry = { ...token(7), expiresAt: now + 6 * 60_000 };
    const failure = recordFailure(undefined, nearlyExpired, 'x', true, now);
    expect(failure.retryAt).toBe(now + 60_000);
    const second = recordFailure(failure, nearlyExpired, 'x', true, now);
    expect(second.retryAt).toBeLessThanOrEqual(nearlyExpired.expiresAt - 5 * 60_000);
  });

  it('does not back off without a token to serve, or when AWS refused the identity', () => {
    expect(inBackoff(recordFailure(undefined, undefined, 'x', true, now), now)).toBe(false);
    expect(inBackoff(recordFailure(undefined, token(7), 'access denied', false, now), now)).toBe(false);
    expect(inBackoff(recordFailure(undefined, token(1), 'x', true, now), now)).toBe(false);
  });
});
