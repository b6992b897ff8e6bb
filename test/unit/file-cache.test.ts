import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry';
import { CACHE_FILE, FileCache } from '../../src/cache/file-cache';
import { acquireLock } from '../../src/cache/lock';
import { createLogger } from '../../src/log';

let dir: string;
const logger = createLogger({ logFile: '/dev/null', logLevel: 'off' }, undefined);
const now = Date.now();
const entry = (host: string, password = 'p'): CacheEntry => ({
  host,
  service: 'ecr',
  username: 'AWS',
  password,
  issuedAt: now,
  expiresAt: now + 12 * 3600_000,
});
/** Hosts of real ECR registries: the cache ignores entries for anything else. */
const host = (account: string) => `${account}.dkr.ecr.us-west-2.amazonaws.com`;
const [A, B, X, OLD, NEW] = [
  '111111111111',
  '222222222222',
  '999999999999',
  '333333333333',
  '444444444444',
].map(host);
const hostsOf = (c: FileCache, identity: string) =>
  c
    .entries()
    .filter((e) => e.identity === identity)
    .map((e) => e.entry.host)
    .sort();
const cache = () => new FileCache({ dir: join(dir, 'ecr'), logger, lockStaleMs: 1000 });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FileCache', () => {
  it('creates a 0700 directory and a 0600 file', async () => {
    await cache().put('id', entry(A));
    expect(statSync(join(dir, 'ecr')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'ecr', CACHE_FILE)).mode & 0o777).toBe(0o600);
  });

  it('keeps identities apart', async () => {
    await cache().put('alice', entry(A, 'pa'));
    await cache().put('bob', entry(A, 'pb'));
    expect(cache().get('alice', A)?.password).toBe('pa');
    expect(cache().get('bob', A)?.password).toBe('pb');
    expect(hostsOf(cache(), 'alice')).toEqual([A]);
    expect(cache().get('carol', A)).toBeUndefined();
  });

  it('merges writers from separate instances instead of overwriting', async () => {
    const one = cache();
    const two = cache();
    one.get('id', X); // both hold a snapshot of the empty file
    two.get('id', X);
    await one.put('id', entry(A));
    await two.put('id', entry(B));
    expect(hostsOf(cache(), 'id')).toEqual([A, B]);
  });

  it('removes a host for every identity', async () => {
    await cache().put('alice', entry(A));
    await cache().put('bob', entry(A));
    await cache().put('bob', entry(B));
    await cache().remove(A);
    expect(cache().get('alice', A)).toBeUndefined();
    expect(hostsOf(cache(), 'bob')).toEqual([B]);
  });

  it('drops expired entries when it writes', async () => {
    await cache().put('id', { ...entry(OLD), issuedAt: now - 20 * 3600_000, expiresAt: now - 3600_000 });
    await cache().put('id', entry(NEW));
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'ecr', CACHE_FILE), 'utf8')).entries)).toEqual([
      `id/${NEW}`,
    ]);
  });

  it.each([
    ['garbage', 'not json at all {'],
    ['another format', JSON.stringify({ version: '1.0', registries: {} })],
    ['wrong entries', JSON.stringify({ format: 'ecr-login-cache/1', entries: { 'id/a': { host: 1 } } })],
  ])('treats a %s file as empty and rebuilds it', async (_name, content) => {
    mkdirSync(join(dir, 'ecr'), { recursive: true });
    writeFileSync(join(dir, 'ecr', CACHE_FILE), content);
    expect(cache().get('id', A)).toBeUndefined();
    await cache().put('id', entry(A));
    expect(cache().get('id', A)?.password).toBe('p');
  });

  it('leaves no temp files behind', async () => {
    await cache().put('id', entry(A));
    await cache().put('id', entry(B));
    expect(readdirSync(join(dir, 'ecr')).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual(
      [],
    );
  });

  it('fails a write where the directory cannot be created, and reads as empty', async () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    const blocked = new FileCache({ dir: join(dir, 'not-a-dir', 'ecr'), logger, lockStaleMs: 100 });
    expect(blocked.get('id', A)).toBeUndefined();
    await expect(blocked.put('id', entry(A))).rejects.toThrow(/ENOTDIR/);
  });

  it('cleans temp files and empty locks that killed processes left, and leaves live ones', async () => {
    const ecr = join(dir, 'ecr');
    mkdirSync(ecr, { mode: 0o700 });
    const past = new Date(Date.now() - 60_000);
    const leftovers = [`${CACHE_FILE}.4242.k1ll3d.tmp`, 'fetch-0123456789abcdef01234567.lock'];
    for (const name of leftovers) {
      writeFileSync(join(ecr, name), '');
      utimesSync(join(ecr, name), past, past);
    }
    const live = `${CACHE_FILE}.4243.wr1t1ng.tmp`;
    writeFileSync(join(ecr, live), '{');
    await cache().put('id', entry(A));
    expect(readdirSync(ecr).sort()).toEqual([CACHE_FILE, live].sort());
  });

  it('never merges without the cache lock: a busy lock costs the write, not the caller', async () => {
    const ecr = join(dir, 'ecr');
    await cache().put('id', entry(A));
    const held = await acquireLock(join(ecr, `${CACHE_FILE}.lock`), { waitMs: 100, staleMs: 60_000 });
    expect(held.kind).toBe('acquired');
    try {
      await cache().put('id', entry(B));
      expect(hostsOf(cache(), 'id')).toEqual([A]);
    } finally {
      if (held.kind === 'acquired') held.lock.release();
    }
    expect(existsSync(join(ecr, `${CACHE_FILE}.lock`))).toBe(false);
  });
});
