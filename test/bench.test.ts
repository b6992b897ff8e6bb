/**
 * Smoke check for `npm run bench` (scripts/bench.mjs), so the script cannot silently rot. This runs
 * one sample per scenario and asserts nothing about timings: the bench is not a test.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { ROOT } from './support/helper';

const run = promisify(execFile);
const GO_HELPER = '/usr/bin/docker-credential-ecr-login';
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('runs in smoke mode and prints the table, the ratios and the concurrency figures', async () => {
  dir = mkdtempSync(join(tmpdir(), 'ecr-login-bench-test-'));
  const out = join(dir, 'bench.json');
  const { stdout } = await run(process.execPath, [join(ROOT, 'scripts', 'bench.mjs')], {
    cwd: ROOT,
    env: { ...process.env, BENCH_RUNS: '1', BENCH_SMOKE: '1', BENCH_OUT: out },
  });

  expect(stdout).toMatch(/^machine /m);
  expect(stdout).toMatch(/^scenario +variant +n +wall ms median +p10–p90 +peak RSS MB median/m);
  for (const row of ['floor +floor', 'version +node', 'get, cache hit +node', 'get, cache miss +node']) {
    expect(stdout).toMatch(new RegExp(`^${row} `, 'm'));
  }
  expect(stdout).toMatch(/^ {2}our hit \/ Node floor +\d+\.\d+x wall/m);
  expect(stdout).toMatch(/^3 concurrent cold gets/m);
  expect(stdout).toMatch(/^node +1 +\d/m); // one ECR call for the whole batch: single flight
  expect(stdout).toMatch(/^herd: N concurrent cold gets/m);
  expect(stdout).toMatch(/^4 +node +4\/4 +1 +\d/m); // the herd: all answered, one ECR call
  expect(stdout).toMatch(/^4 +node version +4\/4 /m);
  if (existsSync(GO_HELPER)) expect(stdout).toMatch(/^ {2}our miss \/ Go miss +\d+\.\d+x wall/m);

  const json = JSON.parse(readFileSync(out, 'utf8')) as {
    results: { scenario: string; variant: string; wallMs: { n: number } }[];
  };
  expect(json.results.find((r) => r.scenario === 'hit' && r.variant === 'node')?.wallMs.n).toBe(1);
});
