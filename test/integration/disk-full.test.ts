/**
 * A full disk under the cache directory (a tiny tmpfs, mounted by the test as root): it costs the
 * cache, never the answer, and leaves no empty locks or temp files for later processes to trip on.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useFixture } from '../support/fixture';
import { REGISTRY, runHelper } from '../support/helper';

const f = useFixture();
const OTHER = '210987654321.dkr.ecr.us-west-2.amazonaws.com';
let mounted: string | undefined;

function mountTinyTmpfs(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const run = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir]);
  if (run.status !== 0) return false;
  mounted = dir;
  return true;
}

afterEach(() => {
  if (mounted) spawnSync('umount', [mounted]);
  mounted = undefined;
});

function fill(dir: string): void {
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(dir, `filler-${i}`), Buffer.alloc(4096, 1));
    } catch {
      return;
    }
  }
}

const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

describe('a full disk', () => {
  it.skipIf(!canMount)('costs the cache, not the answer; erase still succeeds', async () => {
    const disk = join(f.box.home, 'disk');
    expect(mountTinyTmpfs(disk)).toBe(true);
    const cacheDir = join(disk, 'ecr');
    const env = f.env({ AWS_ECR_CACHE_DIR: cacheDir });
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    fill(disk);

    const miss = await runHelper(['get'], { input: OTHER, env });
    expect(miss.status).toBe(0);
    expect(JSON.parse(miss.stdout).Secret).toBe(f.ecr.calls[1].passwords[0]);
    expect(readdirSync(cacheDir).filter((name) => /\.(lock|tmp)$/.test(name))).toEqual([]);

    const erase = await runHelper(['erase'], { input: REGISTRY, env });
    expect(erase).toMatchObject({ status: 0, stdout: '' });
    // Logged out: the next get does not serve the old token from the cache.
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    expect(f.ecr.calls).toHaveLength(3);
  });
});
