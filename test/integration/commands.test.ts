import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedCache, useFixture } from '../support/fixture';
import { HELPER, REGISTRY, runHelper, runProcess } from '../support/helper';

const NOT_FOUND = 'credentials not found in native keychain\n';
const f = useFixture();
const env = (extra: NodeJS.ProcessEnv = {}) => f.env(extra);
const seed = (issuedHoursAgo: number) => seedCache(f.box, env(), issuedHoursAgo, 'seeded-password');

describe('token lifetime', () => {
  it('serves a fresh cached token without calling ECR', async () => {
    seed(1);
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(JSON.parse(run.stdout).Secret).toBe('seeded-password');
    expect(f.ecr.calls).toHaveLength(0);
  });

  it('refreshes a token past half its lifetime', async () => {
    seed(7);
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(f.ecr.calls).toHaveLength(1);
    expect(JSON.parse(run.stdout).Secret).toBe(f.ecr.calls[0].passwords[0]);
  });

  it('serves the stale token when the refresh fails for a passing reason, and logs it', async () => {
    seed(7);
    f.ecr.setBehaviour({ error: { type: 'ServerException', message: 'boom' } });
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).Secret).toBe('seeded-password');
    expect(readFileSync(join(f.box.cacheDir, 'log', 'ecr-login.log'), 'utf8')).toContain(
      'serving the cached token',
    );
  });

  it('does not serve the stale token when AWS refuses the identity', async () => {
    seed(7);
    f.ecr.setBehaviour({ error: { type: 'AccessDeniedException', message: 'denied' } });
    const run = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
  });

  it('never serves an expired token', async () => {
    seed(13);
    f.ecr.setBehaviour({ error: { type: 'ServerException', message: 'boom' } });
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
    expect(JSON.stringify(readFileSync(join(f.box.cacheDir, 'log', 'ecr-login.log'), 'utf8'))).not.toContain(
      'pasted-password',
    );
    const get = await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(JSON.parse(get.stdout).Secret).not.toBe('pasted-password');
  });

  it('refuses to store a login for a registry that is not ECR, saying why', async () => {
    const payload = JSON.stringify({
      ServerURL: 'https://index.docker.io/v1/',
      Username: 'me',
      Secret: 'hub-pass',
    });
    const run = await runHelper(['store'], { input: payload, env: env() });
    expect(run.status).toBe(1);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toContain('https://index.docker.io/v1/ is not an ECR registry');
    expect(run.stdout).not.toContain('hub-pass');
  });

  it('refuses a malformed store payload with one line and exit 1', async () => {
    const run = await runHelper(['store'], { input: 'not json', env: env() });
    expect(run.status).toBe(1);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toContain('store expects');
  });

  it('erase drops the registry for every identity, as docker logout sends it', async () => {
    seed(1);
    for (const key of [REGISTRY, REGISTRY, `http://${REGISTRY}`, `https://${REGISTRY}`]) {
      expect(await runHelper(['erase'], { input: key, env: env() })).toMatchObject({ status: 0, stdout: '' });
    }
    expect(JSON.parse((await runHelper(['list'], { env: env() })).stdout)).toEqual({});
    await runHelper(['get'], { input: REGISTRY, env: env() });
    expect(f.ecr.calls).toHaveLength(1);
  });

  it('erase with nothing cached writes nothing', async () => {
    expect(
      await runHelper(['erase'], { input: REGISTRY, env: env({ AWS_ECR_LOG_LEVEL: 'off' }) }),
    ).toMatchObject({
      status: 0,
      stdout: '',
    });
    expect(existsSync(f.box.cacheDir)).toBe(false);
  });

  it('erase of a registry it does not know succeeds quietly', async () => {
    expect(await runHelper(['erase'], { input: 'https://index.docker.io/v1/', env: env() })).toMatchObject({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('list omits expired entries', async () => {
    seed(13);
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
      stdout: 'docker-credential-ecr-login: unknown action: frobnicate\n',
      stderr: expect.stringMatching(/^Usage: docker-credential-ecr-login <store\|get\|erase\|list\|version>/),
    });
  });

  it.each([
    ['get', ''],
    ['get', '  \n'],
    ['erase', ''],
    ['store', JSON.stringify({ ServerURL: '', Username: 'AWS', Secret: 'x' })],
  ])("%s with an empty server URL is the helpers' error, exit 1", async (action, input) => {
    for (const ignore of [{}, { AWS_ECR_IGNORE_CREDS_STORAGE: 'true' }]) {
      expect(await runHelper([action], { input, env: env(ignore) })).toMatchObject({
        status: 1,
        stdout: 'no credentials server URL\n',
      });
    }
    expect(f.ecr.calls).toHaveLength(0);
  });

  it('with AWS_ECR_IGNORE_CREDS_STORAGE=true, store and erase succeed silently for any registry', async () => {
    const env2 = env({ AWS_ECR_IGNORE_CREDS_STORAGE: 'true' });
    for (const server of ['https://index.docker.io/v1/', REGISTRY, 'registry.example.com:5000']) {
      const payload = JSON.stringify({ ServerURL: server, Username: 'u', Secret: 's' });
      expect(await runHelper(['store'], { input: payload, env: env2 })).toMatchObject({
        status: 0,
        stdout: '',
        stderr: '',
      });
      expect(await runHelper(['erase'], { input: server, env: env2 })).toMatchObject({
        status: 0,
        stdout: '',
        stderr: '',
      });
    }
    // Without it, a login to Docker Hub is refused, so docker says it was not saved.
    const hub = JSON.stringify({ ServerURL: 'https://index.docker.io/v1/', Username: 'u', Secret: 's' });
    expect((await runHelper(['store'], { input: hub, env: env() })).status).toBe(1);
  });
});

describe('a cache it cannot write', () => {
  const asRoot = process.getuid?.() === 0;
  const runuser = asRoot && spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;
  it.skipIf(asRoot && !runuser)('still answers, and leaves the cache file as it was', async () => {
    // A cache directory owned by root, read-only for the user running the helper.
    seed(7);
    chmodSync(f.box.home, 0o755);
    chmodSync(f.box.cacheDir, 0o755);
    chmodSync(join(f.box.cacheDir, 'token-cache.json'), 0o644);
    const before = readFileSync(join(f.box.cacheDir, 'token-cache.json'));
    const args = ['get'];
    const command = asRoot ? 'runuser' : HELPER;
    const argv = asRoot ? ['-u', 'nobody', '--', HELPER, ...args] : args;
    const run = await runProcess(command, argv, {
      env: env({ AWS_ECR_LOG_FILE: '-', AWS_ECR_CACHE_DIR: f.box.cacheDir }),
      input: REGISTRY,
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).Secret).toBe(f.ecr.calls[0].passwords[0]);
    expect(run.stderr).toContain(`not using the cache in ${f.box.cacheDir}: owned by uid 0`);
    expect(readFileSync(join(f.box.cacheDir, 'token-cache.json')).equals(before)).toBe(true);
  });
});

describe('an unexpected failure in get', () => {
  it('still answers not-found on stdout, with the reason on stderr and no stack trace', async () => {
    // A directory as stdin: reading it fails with EISDIR, which no caller should ever send.
    const dir = openSync(f.box.home, 'r');
    try {
      const run = await runHelper(['get'], { env: env(), stdinFd: dir });
      expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
      expect(run.stderr).toMatch(/^ecr-login: .*EISDIR/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      closeSync(dir);
    }
  });
});
