import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeEcsCredentials, startFakeImds } from '../fakes';
import { seedCache, useFixture } from '../support/fixture';
import { HELPER, REGISTRY, runHelper } from '../support/helper';

const NOT_FOUND = 'credentials not found in native keychain\n';
const f = useFixture();
const env = (extra: NodeJS.ProcessEnv = {}) => f.env(extra);
/**
 * What starting Node and being scheduled can add to a budget on a 2-core machine at load 20 (CPU
 * burners, other test files): bounds below are "this budget, not a longer one", never latencies.
 */
const SLACK_MS = 6_000;
/** A wait that ends before it proves the get did not sit out the default AWS_ECR_TIMEOUT. */
const DEFAULT_BUDGET_MS = 10_000;
const registry = (n: number) => `12345678901${n}.dkr.ecr.us-west-2.amazonaws.com`;

describe('single flight across processes', () => {
  it('20 concurrent cold gets make one GetAuthorizationToken call and all get its token', async () => {
    f.ecr.setBehaviour({ delayMs: 400 });
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => runHelper(['get'], { input: REGISTRY, env: env() })),
    );
    expect(runs.map((r) => r.status)).toEqual(Array(20).fill(0));
    expect(f.ecr.calls).toHaveLength(1);
    const secrets = new Set(runs.map((r) => JSON.parse(r.stdout).Secret));
    expect([...secrets]).toEqual(f.ecr.calls[0].passwords);
  });

  it('50 processes over 5 registries: one call per registry, and the cache holds all 5', async () => {
    f.ecr.setBehaviour({ delayMs: 200 });
    const runs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => runHelper(['get'], { input: registry(i % 5), env: env() })),
    );
    expect(runs.filter((r) => r.status !== 0)).toEqual([]);
    expect(f.ecr.calls).toHaveLength(5);
    expect(new Set(f.ecr.calls.map((c) => c.registryIds?.[0]))).toEqual(
      new Set(Array.from({ length: 5 }, (_, i) => `12345678901${i}`)),
    );
    const file = JSON.parse(readFileSync(join(f.box.cacheDir, 'token-cache.json'), 'utf8'));
    expect(Object.keys(file.entries)).toHaveLength(5);
  });

  it('a holder killed mid-fetch does not block the next get', async () => {
    await killMidFetch();
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(run.status).toBe(0);
    expect(run.ms).toBeLessThan(DEFAULT_BUDGET_MS);
    expect(f.ecr.calls).toHaveLength(2);
  });
  it('a fetch for one registry does not hold up another registry', async () => {
    f.ecr.setBehaviour('hang');
    const stuck = spawn(HELPER, ['get'], { env: env() });
    stuck.stdin.end(registry(0));
    try {
      await waitFor(() => f.ecr.calls.length === 1);
      f.ecr.setBehaviour('ok');
      const other = await runHelper(['get'], { input: registry(1), env: env() });
      expect(other.status).toBe(0);
      expect(other.ms).toBeLessThan(DEFAULT_BUDGET_MS);
    } finally {
      stuck.kill('SIGKILL');
      await new Promise((r) => stuck.once('exit', r));
    }
  });

  it('a waiter whose holder is stuck fetches on its own within the budget', async () => {
    f.ecr.setBehaviour('hang');
    const holder = spawn(HELPER, ['get'], { env: env() });
    holder.stdin.end(REGISTRY);
    try {
      await waitFor(() => f.ecr.calls.length === 1);
      holder.kill('SIGSTOP');
      f.ecr.setBehaviour('ok');
      const run = await runHelper(['get'], { input: REGISTRY, env: env({ AWS_ECR_TIMEOUT: '3' }) });
      expect(run.status).toBe(0);
      expect(run.ms).toBeLessThan(3_000 + SLACK_MS);
      expect(JSON.parse(run.stdout).Secret).toBe(f.ecr.calls[1].passwords[0]);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
  });
});

describe('bounded time', () => {
  it('a hung ECR endpoint answers not-found within the budget, saying what timed out', async () => {
    f.ecr.setBehaviour('hang');
    const run = await runHelper(['get'], { input: REGISTRY, env: env({ AWS_ECR_TIMEOUT: '1.5' }) });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr).toMatch(/timed out after 1.5s calling ECR GetAuthorizationToken/);
    expect(run.ms).toBeLessThan(1_500 + SLACK_MS);
  });

  it('a hung ECS credentials endpoint is reported as such', async () => {
    const ecs = await startFakeEcsCredentials({ behaviour: 'hang' });
    f.stopLater(() => ecs.close());
    const run = await runHelper(['get'], {
      input: REGISTRY,
      env: f.box.env({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url,
        AWS_ENDPOINT_URL_ECR: f.ecr.url,
        AWS_ECR_TIMEOUT: '1.5',
      }),
    });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr).toMatch(/getting AWS credentials|no AWS credentials/);
    expect(run.stderr).toContain('container credentials');
    expect(run.ms).toBeLessThan(1_500 + SLACK_MS);
    expect(f.ecr.calls).toHaveLength(0);
  });

  it('a hung container endpoint ends after its documented bound (1 s a try, one retry), not the budget', async () => {
    const ecs = await startFakeEcsCredentials({ behaviour: 'hang' });
    f.stopLater(() => ecs.close());
    const run = await runHelper(['get'], {
      input: REGISTRY,
      env: f.box.env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url, AWS_ENDPOINT_URL_ECR: f.ecr.url }),
    });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr).toContain('the container credentials endpoint did not answer within 3s (2 tries)');
    expect(run.ms).toBeLessThan(3_000 + SLACK_MS);
    expect(ecs.requests.length).toBeGreaterThanOrEqual(1);
  });

  it('an IMDSv2 token PUT that hangs (hop limit 1 in a container) ends with the hop-limit advice', async () => {
    const imds = await startFakeImds({ behaviour: 'hangTokenPut' });
    f.stopLater(() => imds.close());
    const run = await runHelper(['get'], {
      input: REGISTRY,
      env: f.box.env({
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
        AWS_ENDPOINT_URL_ECR: f.ecr.url,
        AWS_ECR_TIMEOUT: '2',
      }),
    });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr).toContain('hop limit of 2');
    expect(run.ms).toBeLessThan(2_000 + SLACK_MS);
  });

  it('an endpoint that answers in 2 seconds still succeeds under the default budget', async () => {
    f.ecr.setBehaviour({ delayMs: 2_000 });
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(run.status).toBe(0);
  });

  it('serves a stale, unexpired token when ECR hangs past the budget', async () => {
    seedCache(f.box, env(), 7, 'stale-but-valid');
    f.ecr.setBehaviour('hang');
    const run = await runHelper(['get'], { input: REGISTRY, env: env({ AWS_ECR_TIMEOUT: '1' }) });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).Secret).toBe('stale-but-valid');
  });
});

describe('an ECR outage', () => {
  it('costs the budget once, then the cached token is served at once for the back-off; doctor shows it; one get tries again after', async () => {
    seedCache(f.box, env(), 7, 'stale-but-valid');
    f.ecr.setBehaviour('hang');
    const outage = env({ AWS_ECR_TIMEOUT: '2' });
    const first = await runHelper(['get'], { input: REGISTRY, env: outage });
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout).Secret).toBe('stale-but-valid');
    const tried = f.ecr.calls.length;
    expect(tried).toBeGreaterThan(0);

    const later = [];
    for (let i = 0; i < 3; i++) later.push(await runHelper(['get'], { input: REGISTRY, env: outage }));
    for (const run of later) {
      expect(run).toMatchObject({ status: 0, stderr: '' });
      expect(JSON.parse(run.stdout).Secret).toBe('stale-but-valid');
      expect(run.ms).toBeLessThan(first.ms);
    }
    expect(f.ecr.calls).toHaveLength(tried);

    const file = join(f.box.cacheDir, 'token-cache.json');
    const cache = JSON.parse(readFileSync(file, 'utf8'));
    const [failure] = Object.values(cache.failures) as {
      failedAt: number;
      retryAt: number;
      attempts: number;
    }[];
    expect(failure.retryAt - failure.failedAt).toBe(60_000);
    expect(failure.attempts).toBe(1);

    const doctor = await runHelper(['doctor', REGISTRY, '--offline'], { env: outage });
    expect(doctor.stdout).toMatch(
      /back-off +refresh failed 1x in a row, last at 20\S+; serving the cached token without calling ECR until 20/,
    );
    expect(doctor.stdout).toMatch(/last error +ecr-login: no token for .*timed out after 2s/);

    // The back-off is over (as a minute later): the next get tries ECR again, which is back.
    failure.retryAt = failure.failedAt;
    writeFileSync(file, JSON.stringify(cache));
    f.ecr.setBehaviour('ok');
    const recovered = await runHelper(['get'], { input: REGISTRY, env: outage });
    expect(recovered.status).toBe(0);
    expect(JSON.parse(recovered.stdout).Secret).toBe(f.ecr.calls[f.ecr.calls.length - 1].passwords[0]);
    expect(JSON.parse(readFileSync(file, 'utf8')).failures).toEqual({});
  });

  it('a refresher killed mid-refresh does not stop the refreshes of a still-valid token', async () => {
    seedCache(f.box, env(), 7, 'stale-but-valid');
    await killMidFetch();
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(run.status).toBe(0);
    expect(f.ecr.calls).toHaveLength(2);
    expect(JSON.parse(run.stdout).Secret).toBe(f.ecr.calls[1].passwords[0]);
  });

  it('serves the cached token at once while another process is already refreshing it', async () => {
    seedCache(f.box, env(), 7, 'stale-but-valid');
    f.ecr.setBehaviour('hang');
    const refresher = spawn(HELPER, ['get'], { env: env() });
    refresher.stdin.end(REGISTRY);
    try {
      await waitFor(() => f.ecr.calls.length === 1);
      const run = await runHelper(['get'], { input: REGISTRY, env: env() });
      expect(JSON.parse(run.stdout).Secret).toBe('stale-but-valid');
      expect(run.ms).toBeLessThan(DEFAULT_BUDGET_MS - 2_000);
      expect(f.ecr.calls).toHaveLength(1);
    } finally {
      refresher.kill('SIGKILL');
      await new Promise((r) => refresher.once('exit', r));
    }
  });
});

/** A get killed while ECR hangs on its call, leaving its lock behind; ECR then answers again. */
async function killMidFetch() {
  f.ecr.setBehaviour('hang');
  const victim = spawn(HELPER, ['get'], { env: env() });
  victim.stdin.end(REGISTRY);
  await waitFor(() => f.ecr.calls.length === 1);
  victim.kill('SIGKILL');
  await new Promise((r) => victim.once('exit', r));
  f.ecr.setBehaviour('ok');
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
