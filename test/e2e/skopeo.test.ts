/**
 * skopeo (containers/image) calling the built helper through credHelpers in REGISTRY_AUTH_FILE.
 * CI installs skopeo; locally: `apt-get install -y skopeo`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REGISTRY } from '../support/helper';
import { findTool } from './tools';
import { run, startWorld, type World } from './world';

const SKOPEO = findTool('skopeo');
if (!SKOPEO) {
  console.warn('test/e2e/skopeo.test.ts skipped: skopeo is not installed (apt-get install -y skopeo)');
}

let world: World;
let authFile: string;
let runtimeDir: string;

beforeEach(async () => {
  world = await startWorld();
  authFile = join(world.sandbox.home, 'auth.json');
  runtimeDir = join(world.sandbox.home, 'run');
  await mkdir(runtimeDir, { mode: 0o700 });
});

afterEach(async () => {
  await world.close();
});

function skopeo(args: string[]) {
  return run(SKOPEO ?? 'skopeo', args, {
    env: world.env({
      REGISTRY_AUTH_FILE: authFile,
      XDG_RUNTIME_DIR: runtimeDir,
      XDG_CONFIG_HOME: join(world.sandbox.home, '.config'),
    }),
  });
}

describe.skipIf(!SKOPEO)('skopeo with docker-credential-ecr-login (skip: skopeo not installed)', () => {
  it('skopeo login --get-login prints AWS for an ECR registry in credHelpers', async () => {
    await writeFile(authFile, JSON.stringify({ credHelpers: { [REGISTRY]: 'ecr-login' } }));

    const result = await skopeo(['login', '--get-login', REGISTRY]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('AWS\n');
    expect(world.ecr.calls).toHaveLength(1);
    expect(world.ecr.calls[0]).toMatchObject({
      service: 'ecr',
      region: 'us-west-2',
      registryIds: ['123456789012'],
      accessKeyId: world.ecs.credentials.AccessKeyId,
      verified: true,
      status: 200,
    });
    expect(world.cachedHosts()).toEqual([REGISTRY]);
    for (const secret of world.secrets()) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('reports "not logged in" when the helper cannot get a token, with its one line on stderr', async () => {
    await writeFile(authFile, JSON.stringify({ credHelpers: { [REGISTRY]: 'ecr-login' } }));
    world.ecr.setBehaviour({ error: { type: 'AccessDeniedException', message: 'not authorized' } });

    const result = await skopeo(['login', '--get-login', REGISTRY]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`ecr-login: no token for ${REGISTRY}: access denied`);
    // skopeo reads the not-found answer as "no credentials" and says so itself.
    expect(result.stderr).toContain(`not logged into ${REGISTRY}`);
    expect(result.stderr).not.toContain('credentials not found in native keychain');
    expect(world.ecr.calls).toHaveLength(1);
  });
});
