/**
 * Hundreds of concurrent `get`s, as a busy CI host runs them: every one answered with the token,
 * a handful of ECR calls, on a loaded machine too. Counts and "answered" only: how long a herd
 * takes is a figure for `npm run bench`, not a pass/fail test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixture } from '../support/fixture';
import { REGISTRY, runHelper, type RunResult } from '../support/helper';

const f = useFixture();
const registry = (n: number) => `1234567890${String(n).padStart(2, '0')}.dkr.ecr.us-west-2.amazonaws.com`;

/** `count` gets at once; the hard cap (3x the budget) bounds each, so the runner's limit is beyond it. */
function herd(count: number, host: (i: number) => string): Promise<RunResult[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      runHelper(['get'], { input: host(i), env: f.env(), timeoutMs: 120_000 }),
    ),
  );
}

/** What went wrong in the runs that did not answer with a token, for the failure message. */
const unanswered = (runs: RunResult[]) =>
  runs
    .filter((r) => r.status !== 0)
    .slice(0, 5)
    .map((r) => ({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim(), ms: r.ms }));

/** One busy loop per core for the length of `work`. */
async function withEveryCoreBusy<T>(work: () => Promise<T>): Promise<T> {
  const burners: ChildProcess[] = Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  try {
    return await work();
  } finally {
    for (const burner of burners) burner.kill('SIGKILL');
  }
}

describe('a herd of cold gets', () => {
  it(
    '500 for one registry: all answered with the token, at most 3 ECR calls',
    { timeout: 180_000 },
    async () => {
      f.ecr.setBehaviour({ delayMs: 200 });
      const runs = await herd(500, () => REGISTRY);
      expect(unanswered(runs)).toEqual([]);
      expect(f.ecr.calls.length).toBeGreaterThanOrEqual(1);
      expect(f.ecr.calls.length).toBeLessThanOrEqual(3);
      const issued = new Set(f.ecr.calls.flatMap((c) => c.passwords));
      expect(runs.every((r) => issued.has(JSON.parse(r.stdout).Secret))).toBe(true);
    },
  );

  it(
    '200 over 10 registries with every core busy: all answered, at most 2 calls each, 10 entries cached',
    { timeout: 180_000 },
    async () => {
      f.ecr.setBehaviour({ delayMs: 200 });
      const runs = await withEveryCoreBusy(() => herd(200, (i) => registry(i % 10)));
      expect(unanswered(runs)).toEqual([]);
      const perRegistry = new Map<string, number>();
      for (const call of f.ecr.calls) {
        const id = call.registryIds?.[0] ?? '?';
        perRegistry.set(id, (perRegistry.get(id) ?? 0) + 1);
      }
      expect(perRegistry.size).toBe(10);
      expect(Math.max(...perRegistry.values())).toBeLessThanOrEqual(2);
      const file = JSON.parse(readFileSync(join(f.box.cacheDir, 'token-cache.json'), 'utf8'));
      expect(Object.keys(file.entries)).toHaveLength(10);
    },
  );

  it(
    'a fetch that fails is reported by its waiters, not tried again by each in turn',
    { timeout: 60_000 },
    async () => {
      f.ecr.setBehaviour({ delayMs: 300, error: { type: 'AccessDeniedException', message: 'denied' } });
      const runs = await herd(30, () => REGISTRY);
      expect(runs.map((r) => r.status)).toEqual(Array(30).fill(1));
      expect(runs.every((r) => r.stderr.includes('access denied'))).toBe(true);
      expect(f.ecr.calls.length).toBeLessThanOrEqual(3);
    },
  );
});
