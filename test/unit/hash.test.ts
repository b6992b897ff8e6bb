import { describe, expect, it } from 'vitest';
import { hash } from '../../src/hash';

describe('hash', () => {
  it('is stable, 32 hex digits, and sensitive to every byte', () => {
    expect(hash('abc')).toBe(hash('abc'));
    expect(hash('abc')).toMatch(/^[0-9a-f]{32}$/);
    expect(hash('abc')).not.toBe(hash('abd'));
    expect(hash('')).not.toBe(hash('\u0000'));
  });

  it('matches the published FNV-1a 64 test vector in its first half', () => {
    // FNV-1a 64 of "a" is af63dc4c8601ec8c.
    expect(hash('a').slice(0, 16)).toBe('af63dc4c8601ec8c');
  });

  it('spreads 10,000 similar keys without a collision', () => {
    const seen = new Set(Array.from({ length: 10_000 }, (_, i) => hash(`identity-${i}/host`)));
    expect(seen.size).toBe(10_000);
  });
});
