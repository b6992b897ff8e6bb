import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDockerEngine, type FakeDockerEngine } from './docker-engine';

const DOCKER = '/usr/local/bin/docker';
const ECR_HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

// Logs each call as "<verb>\t<stdin>" and answers `get` like a helper that knows the registry.
// FAKE_HELPER_FAIL_GET=1 makes `get` fail; FAKE_HELPER_FAIL_STORE=1 makes `store` fail the way docker-credential-ecr-login does.
const HELPER = `#!/bin/sh
input=$(cat)
printf '%s\\t%s\\n' "$1" "$input" >> "$FAKE_HELPER_LOG"
case "$1" in
  get) if [ "$FAKE_HELPER_FAIL_GET" = 1 ]; then echo 'helper stderr: AccessDenied' >&2; echo 'helper stdout: failed'; exit 1; fi
       printf '{"ServerURL":"%s","Username":"AWS","Secret":"x"}' "$input" ;;
  store) if [ "$FAKE_HELPER_FAIL_STORE" = 1 ]; then echo 'not implemented'; exit 1; fi ;;
esac
`;

let dir: string;
let engine: FakeDockerEngine;
beforeEach(async () => {
  // Short path: unix socket paths are limited to ~107 bytes.
  dir = await mkdtemp(join(tmpdir(), 'dkr-'));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'bin', 'docker-credential-fake'), HELPER);
  await chmod(join(dir, 'bin', 'docker-credential-fake'), 0o755);
  engine = await startFakeDockerEngine(dir);
});
afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(config: unknown): Promise<void> {
  await writeFile(join(dir, 'config', 'config.json'), JSON.stringify(config));
}

async function helperCalls(): Promise<Array<[string, string]>> {
  const text = await readFile(join(dir, 'helper.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t') as [string, string]);
}

/** Must be asynchronous: the fake engine answers from this same process. */
function docker(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, {
      env: {
        PATH: `${join(dir, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
        HOME: dir,
        DOCKER_CONFIG: join(dir, 'config'),
        DOCKER_HOST: engine.host,
        DOCKER_CLI_HINTS: 'false',
        FAKE_HELPER_LOG: join(dir, 'helper.log'),
        ...options.env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // docker may exit before reading stdin (EPIPE on a loaded machine); that is not the test's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

describe('fake docker engine with the real docker CLI', () => {
  it('lets an anonymous `docker pull alpine` succeed and records X-Registry-Auth "e30=" ({})', async () => {
    await writeConfig({});
    const result = await docker(['pull', 'alpine']);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('docker.io/library/alpine:latest');
    expect(engine.requests.map((r) => [r.method, r.path, r.apiVersion])).toEqual([
      ['HEAD', '/_ping', undefined],
      ['POST', '/images/create', '1.50'],
    ]);
    expect(engine.requests[1].headers['user-agent']).toMatch(/^Docker-Client\/28\./);
    expect(engine.pulls).toEqual([
      { fromImage: 'docker.io/library/alpine', tag: 'latest', registryAuth: 'e30=', auth: {} },
    ]);
    expect(await helperCalls()).toEqual([]);
  });

  it('passes what a credential helper returns as X-Registry-Auth for an ECR pull', async () => {
    await writeConfig({ credHelpers: { [ECR_HOST]: 'fake' } });
    const result = await docker(['pull', `${ECR_HOST}/app:1`]);
    expect(result.code).toBe(0);
    expect(await helperCalls()).toEqual([['get', ECR_HOST]]);
    const [pull] = engine.pulls;
    expect(pull).toMatchObject({ fromImage: `${ECR_HOST}/app`, tag: '1' });
    expect(pull.auth).toEqual({ username: 'AWS', password: 'x', serveraddress: ECR_HOST });
    expect(Buffer.from(pull.registryAuth ?? '', 'base64url').toString()).toBe(
      `{"username":"AWS","password":"x","serveraddress":"${ECR_HOST}"}`,
    );
  });

  it('pulls anonymously when the helper fails, passing on its stderr but not its stdout', async () => {
    await writeConfig({ credHelpers: { [ECR_HOST]: 'fake' } });
    const result = await docker(['pull', `${ECR_HOST}/app:1`], { env: { FAKE_HELPER_FAIL_GET: '1' } });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('helper stderr: AccessDenied');
    expect(result.stderr + result.stdout).not.toContain('helper stdout');
    expect(await helperCalls()).toEqual([['get', ECR_HOST]]);
    expect(engine.pulls[0]).toMatchObject({ registryAuth: 'e30=', auth: {} });
  });

  it('fails `docker pull` when the engine reports an error, in the stream or as a status', async () => {
    await writeConfig({});
    engine.setPullBehaviour({ message: 'pull access denied: no basic auth credentials' });
    const inStream = await docker(['pull', `${ECR_HOST}/app:1`]);
    expect(inStream.code).toBe(1);
    expect(inStream.stderr).toContain('no basic auth credentials');

    engine.setPullBehaviour((pull) =>
      pull.auth?.password === 'good' ? 'ok' : { status: 404, message: 'manifest unknown' },
    );
    const asStatus = await docker(['pull', 'alpine']);
    expect(asStatus.code).toBe(1);
    expect(asStatus.stderr).toContain('manifest unknown');
  });

  it('records the helper calls made by docker login and docker logout', async () => {
    await writeConfig({ credHelpers: { [ECR_HOST]: 'fake' } });
    const login = await docker(['login', ECR_HOST]);
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Login Succeeded');
    expect(engine.logins.map((l) => l.auth)).toEqual([
      { username: 'AWS', password: 'x', serveraddress: ECR_HOST },
    ]);
    expect(engine.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /_ping', 'POST /auth']);
    expect(await helperCalls()).toEqual([
      ['get', ECR_HOST],
      ['store', `{"ServerURL":"${ECR_HOST}","Username":"AWS","Secret":"x"}`],
    ]);

    await rm(join(dir, 'helper.log'));
    const logout = await docker(['logout', ECR_HOST]);
    expect(logout.code).toBe(0);
    // HOST is tried twice (plus http:// and https:// forms that do not map to the helper).
    expect(await helperCalls()).toEqual([
      ['erase', ECR_HOST],
      ['erase', ECR_HOST],
    ]);
    expect(engine.requests).toHaveLength(2);

    await rm(join(dir, 'helper.log'));
    await docker(['logout', `https://${ECR_HOST}`]);
    expect(await helperCalls()).toEqual([['erase', ECR_HOST]]);
  });

  it('stores without a get for --password-stdin, and a failing store fails the login', async () => {
    await writeConfig({ credHelpers: { [ECR_HOST]: 'fake' } });
    const ok = await docker(['login', '-u', 'AWS', '--password-stdin', ECR_HOST], { input: 'pw\n' });
    expect(ok.code).toBe(0);
    expect(await helperCalls()).toEqual([
      ['store', `{"ServerURL":"${ECR_HOST}","Username":"AWS","Secret":"pw"}`],
    ]);
    expect(engine.logins[0].auth).toEqual({ username: 'AWS', password: 'pw', serveraddress: ECR_HOST });

    await rm(join(dir, 'helper.log'));
    const failEnv = { env: { FAKE_HELPER_FAIL_STORE: '1' } };
    const failing = await docker(['login', '-u', 'AWS', '--password-stdin', ECR_HOST], {
      ...failEnv,
      input: 'pw',
    });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('Error saving credentials: error storing credentials');
    expect(failing.stderr).toContain('not implemented');
    expect(engine.logins).toHaveLength(2);

    // With stored credentials a failed store is swallowed and the CLI falls back to prompting.
    const fallback = await docker(['login', ECR_HOST], failEnv);
    expect(fallback.code).toBe(1);
    expect(fallback.stderr).toContain('Cannot perform an interactive login from a non TTY device');
    expect((await helperCalls()).map(([verb]) => verb)).toEqual(['store', 'get', 'store']);
    expect(engine.logins).toHaveLength(3);

    engine.setLoginBehaviour({ status: 401, message: 'login attempt failed with status: 401 Unauthorized' });
    const refused = await docker(['login', '-u', 'AWS', '--password-stdin', ECR_HOST], { input: 'pw' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401 Unauthorized');
    // A refused stored credential also ends in the interactive fallback.
    const refusedStored = await docker(['login', ECR_HOST]);
    expect(refusedStored.code).toBe(1);
    expect(refusedStored.stderr).toContain('Cannot perform an interactive login from a non TTY device');
  });

  it('answers unknown endpoints with a JSON 404', async () => {
    await writeConfig({});
    const result = await docker(['image', 'ls']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not implemented by the fake engine');
    expect(engine.requests.at(-1)).toMatchObject({ method: 'GET', path: '/images/json', status: 404 });
  });
});
