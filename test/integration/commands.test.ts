import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry';
import { resolveIdentity } from '../../src/identity';
import { startFakeEcr, type FakeEcr } from '../fakes';
import { KEYS, REGISTRY, runHelper, Sandbox } from '../support/helper';

const NOT_FOUND = 'credentials not found in native keychain\n';
let box: Sandbox;
let ecr: FakeEcr;

beforeEach(async () => {
  box = new Sandbox();
  ecr = await startFakeEcr();
});
afterEach(async () => {
  await ecr.close();
  box.cleanup();
});

const env = (extra: NodeJS.ProcessEnv = {}) => box.env({ ...KEYS, AWS_ENDPOINT_URL_ECR: ecr.url, ...extra });

/** Put an entry in the cache as the helper would have, with chosen times. */
function seed(issuedAgoMs: number, lifetimeMs: number, password = 'seeded-password') {
  const identity = resolveIdentity(env());
  const now = Date.now();
  const entry: CacheEntry = {
    host: REGISTRY,
    service: 'ecr',
    username: 'AWS',
    password,
    issuedAt: now - issuedAgoMs,
    expiresAt: now - issuedAgoMs + lifetimeMs,
  };
  mkdirSync(box.cacheDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(box.cacheDir, 'token-cache.json'),
    JSON.stringify({
      format: 'ecr-login-cache/1',
      entries: { [`${identity.fingerprint}/${REGISTRY}`]: entry },
    }),
  );
}

const HOUR = 3600_000;

describe('token lifetime', () => {
  it('serves a fresh cached token without calling ECR', async () => {
    seed(1 * HOUR, 12 * HOUR);
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(JSON.parse(run.stdout).Secret).toBe('seeded-password');
    expect(ecr.calls).toHaveLength(0);
  });

  it('refreshes a token past half its lifetime', async () => {
    seed(7 * HOUR, 12 * HOUR);
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(ecr.calls).toHaveLength(1);
    expect(JSON.parse(run.stdout).Secret).toBe(ecr.calls[0].passwords[0]);
  });

  it('serves the stale token when the refresh fails for a passing reason, and logs it', async () => {
    seed(7 * HOUR, 12 * HOUR);
    ecr.setBehaviour({ error: { type: 'ServerException', message: 'boom' } });
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).Secret).toBe('seeded-password');
    expect(readFileSync(join(box.cacheDir, 'log', 'ecr-login.log'), 'utf8')).toContain(
      'serving the cached token',
    );
  });

  it('does not serve the stale token when AWS refuses the identity', async () => {
    seed(7 * HOUR, 12 * HOUR);
    ecr.setBehaviour({ error: { type: 'AccessDeniedException', message: 'denied' } });
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
  });

  it('never serves an expired token', async () => {
    seed(13 * HOUR, 12 * HOUR);
    ecr.setBehaviour({ error: { type: 'ServerException', message: 'boom' } });
    const run = await runHelper(['get'], { input: REGISTRY, env: env({ AWS_ECR_TIMEOUT: '2' }) });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stdout).not.toContain('seeded-password');
  });
});

describe('store, erase, list, version', () => {
  it('accepts store without persisting, so docker login works', async () => {
    const payload = JSON.stringify({ ServerURL: REGISTRY, Username: 'AWS', Secret: 'pasted-password' });
    const run = await runHelper(['store'], { input: payload, env: env() });
    expect(run).toMatchObject({ status: 0, stdout: '' });
    expect(JSON.stringify(readFileSync(join(box.cacheDir, 'log', 'ecr-login.log'), 'utf8'))).not.toContain(
      'pasted-password',
    );
    const get = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(JSON.parse(get.stdout).Secret).not.toBe('pasted-password');
  });

  it('refuses a malformed store payload with one line and exit 1', async () => {
    const run = await runHelper(['store'], { input: 'not json', env: env() });
    expect(run.status).toBe(1);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toContain('store expects');
  });

  it('erase drops the registry for every identity, as docker logout sends it', async () => {
    seed(1 * HOUR, 12 * HOUR);
    for (const key of [REGISTRY, REGISTRY, `http://${REGISTRY}`, `https://${REGISTRY}`]) {
      expect(await runHelper(['erase'], { input: key, env: env() })).toMatchObject({ status: 0, stdout: '' });
    }
    expect(JSON.parse((await runHelper(['list'], { env: env() })).stdout)).toEqual({});
    await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(ecr.calls).toHaveLength(1);
  });

  it('erase of a registry it does not know succeeds quietly', async () => {
    expect(await runHelper(['erase'], { input: 'https://index.docker.io/v1/', env: env() })).toMatchObject({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('list omits expired entries', async () => {
    seed(13 * HOUR, 12 * HOUR);
    expect(JSON.parse((await runHelper(['list'], { input: 'unused', env: env() })).stdout)).toEqual({});
  });

  it.each(['version', '--version', '-v'])('%s prints one line and exits 0', async (arg) => {
    const run = await runHelper([arg], { env: env() });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^docker-credential-ecr-login \(ecr-login\) \d+\.\d+\.\d+\n$/);
  });

  it.each(['--help', '-h'])('%s prints usage and exits 0', async (arg) => {
    expect(await runHelper([arg], { env: env() })).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^Usage: /),
    });
  });

  it('no action or an unknown one is a usage error on stdout, exit 1', async () => {
    expect(await runHelper([], { env: env() })).toMatchObject({
      status: 1,
      stdout: expect.stringMatching(/^Usage: /),
    });
    expect(await runHelper(['frobnicate'], { env: env() })).toMatchObject({
      status: 1,
      stdout: 'Unknown credential action `frobnicate`\n',
    });
  });
});
