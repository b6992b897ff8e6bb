import { describe, expect, it } from 'vitest';
import { freshness, isCacheEntry, type CacheEntry } from '../../src/cache/entry';

const HOUR = 3600_000;
const entry = (issuedAt: number, expiresAt: number): CacheEntry => ({
  host: 'public.ecr.aws',
  service: 'ecr-public',
  username: 'AWS',
  password: 'p',
  issuedAt,
  expiresAt,
});

describe('freshness', () => {
  const e = entry(0, 12 * HOUR);
  it('is fresh for the first half of the lifetime', () => {
    expect(freshness(e, 0)).toBe('fresh');
    expect(freshness(e, 6 * HOUR - 1)).toBe('fresh');
  });
  it('is stale, still servable, in the second half', () => {
    expect(freshness(e, 6 * HOUR)).toBe('stale');
    expect(freshness(e, 11.9 * HOUR)).toBe('stale');
  });
  it('expires a few minutes before the token does, so a pull can finish', () => {
    expect(freshness(e, 12 * HOUR - 60_000)).toBe('expired');
    expect(freshness(e, 13 * HOUR)).toBe('expired');
  });
  it('treats a nonsensical lifetime as expired', () => {
    expect(freshness(entry(10, 5), 0)).toBe('expired');
  });
});

describe('isCacheEntry', () => {
  it('accepts the shape and rejects anything else', () => {
    expect(isCacheEntry(entry(0, 1))).toBe(true);
    expect(isCacheEntry({ ...entry(0, 1), service: 'other' })).toBe(false);
    expect(isCacheEntry({ ...entry(0, 1), expiresAt: '1' })).toBe(false);
    expect(isCacheEntry(null)).toBe(false);
  });
});
