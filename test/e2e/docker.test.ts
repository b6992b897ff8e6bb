/**
 * The real docker CLI (client 28.2.2) calling the built helper: docker reads a throwaway
 * DOCKER_CONFIG, finds docker-credential-ecr-login on PATH, and hands what it answers to a fake
 * engine on a unix socket as X-Registry-Auth. The helper signs with credentials from the fake ECS
 * endpoint and gets its tokens from the fake ECR.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDockerEngine, type FakeDockerEngine } from '../fakes';
import { REGISTRY } from '../support/helper';
import { DOCKER } from './tools';
import { run, startWorld, type World } from './world';

const PUBLIC = 'public.ecr.aws';
const NOT_FOUND = 'credentials not found in native keychain';

let world: World;
let engine: FakeDockerEngine;
let dockerConfig: string;

beforeEach(async () => {
  world = await startWorld();
  // The sandbox HOME is short enough for a unix socket path (~107 bytes at most).
  engine = await startFakeDockerEngine(world.sandbox.home);
  dockerConfig = join(world.sandbox.home, '.docker');
  await mkdir(dockerConfig);
});

afterEach(async () => {
  await engine.close();
  await world.close();
});

async function writeConfig(config: unknown): Promise<void> {
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify(config));
}

function docker(args: string[]) {
  return run(DOCKER, args, {
    env: world.env({ DOCKER_CONFIG: dockerConfig, DOCKER_HOST: engine.host, DOCKER_CLI_HINTS: 'false' }),
  });
}

/** The passwords the fake ECR issued, in order; one per successful call here. */
function issued(): string[] {
  return world.ecr.calls.flatMap((call) => call.passwords);
}

describe.skipIf(!existsSync(DOCKER))('the real docker CLI with docker-credential-ecr-login', () => {
  it('credHelpers: docker pull carries the ECR token, and a second pull is served from the cache', async () => {
    await writeConfig({ credHelpers: { [REGISTRY]: 'ecr-login' } });

    const first = await docker(['pull', `${REGISTRY}/app:1`]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(world.ecr.calls).toHaveLength(1);
    expect(world.ecr.calls[0]).toMatchObject({
      service: 'ecr',
      region: 'us-west-2',
      registryIds: ['123456789012'],
      accessKeyId: world.ecs.credentials.AccessKeyId,
      sessionToken: world.ecs.credentials.Token,
      verified: true,
      status: 200,
    });
    const [password] = issued();
    expect(engine.pulls).toHaveLength(1);
    expect(engine.pulls[0]).toMatchObject({ fromImage: `${REGISTRY}/app`, tag: '1' });
    expect(engine.pulls[0].auth).toEqual({ username: 'AWS', password, serveraddress: REGISTRY });

    const second = await docker(['pull', `${REGISTRY}/app:1`]);
    expect(second.code).toBe(0);
    expect(world.ecr.calls).toHaveLength(1);
    expect(world.ecs.requests).toHaveLength(1);
    expect(engine.pulls[1].auth).toEqual({ username: 'AWS', password, serveraddress: REGISTRY });
    expect(world.cachedHosts()).toEqual([REGISTRY]);
  });

  it('credsStore: ECR pulls carry the token, Docker Hub pulls go anonymous without a word', async () => {
    await writeConfig({ credsStore: 'ecr-login' });

    const ecrPull = await docker(['pull', `${REGISTRY}/app:1`]);
    expect(ecrPull.code).toBe(0);
    expect(world.ecr.calls).toHaveLength(1);
    expect(engine.pulls[0].auth).toEqual({
      username: 'AWS',
      password: issued()[0],
      serveraddress: REGISTRY,
    });

    const hub = await docker(['pull', 'alpine']);
    expect(hub.code).toBe(0);
    // Not an ECR host: not-found on the helper's stdout (which docker swallows), nothing on stderr.
    expect(hub.stderr).toBe('');
    expect(hub.stdout).not.toContain(NOT_FOUND);
    expect(engine.pulls[1]).toMatchObject({
      fromImage: 'docker.io/library/alpine',
      tag: 'latest',
      registryAuth: 'e30=',
      auth: {},
    });
    // No AWS call for Docker Hub.
    expect(world.ecr.calls).toHaveLength(1);
  });

  it('ECR Public: public.ecr.aws pulls carry a token from ecr-public in us-east-1', async () => {
    await writeConfig({ credHelpers: { [PUBLIC]: 'ecr-login' } });

    const result = await docker(['pull', `${PUBLIC}/docker/library/alpine:3`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(world.ecr.calls).toHaveLength(1);
    expect(world.ecr.calls[0]).toMatchObject({
      service: 'ecr-public',
      signingService: 'ecr-public',
      region: 'us-east-1',
      verified: true,
      status: 200,
    });
    expect(engine.pulls).toHaveLength(1);
    expect(engine.pulls[0]).toMatchObject({ fromImage: `${PUBLIC}/docker/library/alpine`, tag: '3' });
    expect(engine.pulls[0].auth).toEqual({
      username: 'AWS',
      password: issued()[0],
      serveraddress: PUBLIC,
    });
  });

  it('docker login succeeds (get, /auth, store) and docker logout drops the cached token', async () => {
    await writeConfig({ credHelpers: { [REGISTRY]: 'ecr-login' } });

    const login = await docker(['login', REGISTRY]);
    // The CLI's own notes ("Authenticating with existing credentials... [Username: AWS]") go to
    // stderr; nothing from the helper does.
    expect(login.stderr).toContain('[Username: AWS]');
    expect(login.stderr).not.toContain('ecr-login');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Login Succeeded');
    expect(world.ecr.calls).toHaveLength(1);
    const [password] = issued();
    expect(engine.logins.map((l) => l.auth)).toEqual([
      { username: 'AWS', password, serveraddress: REGISTRY },
    ]);
    expect(world.cachedHosts()).toEqual([REGISTRY]);
    // The CLI rewrites config.json but must keep no password in it: store does not persist.
    const config = await readFile(join(dockerConfig, 'config.json'), 'utf8');
    expect(config).not.toContain(password);
    expect(JSON.parse(config)).toMatchObject({ credHelpers: { [REGISTRY]: 'ecr-login' } });

    const logout = await docker(['logout', REGISTRY]);
    expect(logout.stderr).toBe('');
    expect(logout.code).toBe(0);
    expect(world.cachedHosts()).not.toContain(REGISTRY);

    const pull = await docker(['pull', `${REGISTRY}/app:1`]);
    expect(pull.code).toBe(0);
    expect(world.ecr.calls).toHaveLength(2);
    const fresh = issued()[1];
    expect(fresh).not.toBe(password);
    expect(engine.pulls[0].auth).toEqual({ username: 'AWS', password: fresh, serveraddress: REGISTRY });
  });

  it('access denied: the pull goes on anonymously with one helper line on stderr and no secret', async () => {
    await writeConfig({ credHelpers: { [REGISTRY]: 'ecr-login' } });
    world.ecr.setBehaviour({
      error: {
        type: 'AccessDeniedException',
        message:
          'User: arn:aws:sts::123456789012:assumed-role/ecr-login-task-role/task is not authorized to ' +
          'perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows ' +
          'the ecr:GetAuthorizationToken action',
      },
    });

    const result = await docker(['pull', `${REGISTRY}/app:1`]);
    // Docker 28 treats a failing `get` as "no credentials" and pulls anonymously: exit 0.
    expect(result.code).toBe(0);
    expect(engine.pulls).toHaveLength(1);
    expect(engine.pulls[0]).toMatchObject({ registryAuth: 'e30=', auth: {} });
    // AccessDenied is not retried.
    expect(world.ecr.calls).toHaveLength(1);
    expect(world.ecr.calls[0]).toMatchObject({ status: 400, verified: true });

    // docker passes the helper's stderr through and adds nothing of its own: one line in all.
    const helperLines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(helperLines).toHaveLength(1);
    expect(helperLines[0]).toMatch(/^ecr-login: /);
    expect(helperLines[0]).toMatch(/access denied/i);
    expect(helperLines[0]).toContain('ecr:GetAuthorizationToken');
    expect(helperLines[0]).toContain(REGISTRY);
    // The not-found answer is for docker, not for the user.
    expect(result.stdout + result.stderr).not.toContain(NOT_FOUND);
    for (const secret of world.secrets()) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
    expect(world.cachedHosts()).toEqual([]);
  });
});
