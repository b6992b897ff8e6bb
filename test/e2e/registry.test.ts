/**
 * Pulls, pushes and builds through a real registry with the built helper: the distribution
 * registry over TLS under an ECR host name (see registry-world.ts), reached by a real dockerd,
 * skopeo and podman. Each operation is also run without the helper, where it must fail with the
 * registry's auth error: that is what proves the helper's token is what let it through.
 */
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, REGISTRY } from '../support/helper';
import {
  DOCKER_CLI,
  missingRegistryTools,
  startRegistryWorld,
  STAND_IN,
  type RegistryWorld,
} from './registry-world';
import type { Run } from './world';

const missing = missingRegistryTools();
const skipReason =
  process.getuid?.() !== 0
    ? 'needs root (namespaces, dockerd)'
    : missing.length
      ? `missing ${missing.join(', ')} (apt-get install docker.io docker-registry skopeo podman)`
      : undefined;
if (skipReason) console.warn(`test/e2e/registry.test.ts skipped: ${skipReason}`);

/** What docker says when the registry wants credentials and it has none. */
const DOCKER_NO_AUTH = 'no basic auth credentials';
/** What containers/image (skopeo, podman) says for the registry's 401. */
const CONTAINERS_NO_AUTH = 'unauthorized: authentication required';

let world: RegistryWorld;
let home: string;

function file(path: string, content: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** The same tool, configured with the helper or with nothing at all. */
function dockerEnv(helper: boolean) {
  const config = join(home, helper ? 'docker-helper' : 'docker-none');
  file(
    join(config, 'config.json'),
    JSON.stringify(helper ? { credHelpers: { [REGISTRY]: 'ecr-login' } } : {}),
  );
  return world.env({ DOCKER_CONFIG: config, DOCKER_BUILDKIT: '0' });
}

function docker(args: string[], helper: boolean): Promise<Run> {
  return world.run(DOCKER_CLI, args, { env: dockerEnv(helper) });
}

/** Nothing of the token in what the tool printed. */
function expectNoSecret(result: Run): void {
  expect(result.stdout + result.stderr).not.toContain(world.token.slice(0, 40));
}

/** Every call reached the fake ECR signed with KEYS and verified. */
function expectSignedCalls(): void {
  expect(world.ecr.calls.length).toBeGreaterThan(0);
  for (const call of world.ecr.calls) {
    expect(call).toMatchObject({ accessKeyId: KEYS.AWS_ACCESS_KEY_ID, verified: true, status: 200 });
  }
}

describe.skipIf(skipReason)(
  `a real registry under ${REGISTRY}${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  // Each test takes a second or two; vfs copies every layer, so leave room on a busy machine.
  { timeout: 60_000 },
  () => {
    beforeAll(async () => {
      world = await startRegistryWorld();
      home = world.sandbox.home;
    }, 120_000);

    afterAll(async () => {
      await world?.close();
    });

    it("the helper's Secret is the fake ECR's token, byte for byte (bcrypt checks only 72 bytes)", async () => {
      const got = await world.run('docker-credential-ecr-login', ['get'], { input: REGISTRY });
      expect(got.stderr).toBe('');
      expect(got.code).toBe(0);
      const answer = JSON.parse(got.stdout) as { ServerURL: string; Username: string; Secret: string };
      expect(answer.Username).toBe('AWS');
      expect(answer.Secret.length).toBeGreaterThan(1500);
      // Compared as a boolean so that a failure does not print the token.
      expect(answer.Secret === world.token).toBe(true);
      expect(world.ecr.calls[0]).toMatchObject({ region: 'us-west-2', registryIds: ['123456789012'] });
      expectSignedCalls();
    });

    it('docker pull: unauthorized without the helper, the stand-in image with it', async () => {
      const without = await docker(['pull', STAND_IN], false);
      expect(without.code).not.toBe(0);
      expect(without.stderr).toContain(DOCKER_NO_AUTH);

      const pulled = await docker(['pull', STAND_IN], true);
      expect(pulled.stderr, world.logs()).toBe('');
      expect(pulled.code).toBe(0);
      expect(pulled.stdout).toContain(`Downloaded newer image for ${STAND_IN}`);
      const id = await docker(['image', 'inspect', '--format', '{{.Id}}', STAND_IN], true);
      expect(id.stdout.trim()).toBe(world.image.configDigest);
      expectNoSecret(pulled);
      expectSignedCalls();
    });

    it('docker push: refused without the helper, stored in the registry with it', async () => {
      const image = `${REGISTRY}/pushed:1`;
      const imported = await docker(['import', world.image.layerTar, image], true);
      expect(imported.stderr).toBe('');
      expect(imported.code).toBe(0);
      const tag = join(world.registryData, 'docker/registry/v2/repositories/pushed/_manifests/tags/1');

      const without = await docker(['push', image], false);
      expect(without.code).not.toBe(0);
      expect(without.stderr).toContain(DOCKER_NO_AUTH);
      expect(existsSync(tag)).toBe(false);

      const pushed = await docker(['push', image], true);
      expect(pushed.stderr, world.logs()).toBe('');
      expect(pushed.code).toBe(0);
      expect(pushed.stdout).toMatch(/^1: digest: sha256:[0-9a-f]{64}/m);
      const digest = /^1: digest: (sha256:[0-9a-f]{64})/m.exec(pushed.stdout)![1];
      expect(readFileSync(join(tag, 'current/link'), 'utf8')).toBe(digest);
      expectNoSecret(pushed);
    });

    it('legacy docker build FROM the ECR image: fails without the helper, builds with it', async () => {
      const context = join(home, 'build');
      file(join(context, 'Dockerfile'), `FROM ${STAND_IN}\nLABEL ecr-login-test=built\n`);
      // The base must come from the registry, not from an earlier test's pull.
      await docker(['image', 'rm', '--force', STAND_IN], true);

      const without = await docker(['build', '--tag', 'built:without', context], false);
      expect(without.code).not.toBe(0);
      expect(without.stderr).toContain(DOCKER_NO_AUTH);

      const built = await docker(['build', '--tag', 'built:with', context], true);
      expect(built.code, built.stderr + world.logs()).toBe(0);
      expect(built.stdout).toContain(`Downloaded newer image for ${STAND_IN}`);
      expect(built.stdout).toContain('Successfully tagged built:with');
      const label = await docker(
        ['image', 'inspect', '--format', '{{index .Config.Labels "ecr-login-test"}}', 'built:with'],
        true,
      );
      expect(label.stdout.trim()).toBe('built');
      expectNoSecret(built);
    });

    it('skopeo copy with credHelpers in its auth file: unauthorized without the helper, copied with', async () => {
      // skopeo 1.9 ignores credsStore in auth files and CONTAINERS_REGISTRIES_CONF; credHelpers works.
      const copy = (helper: boolean, dest: string) => {
        const authFile = file(
          join(home, 'skopeo', helper ? 'auth-helper.json' : 'auth-none.json'),
          JSON.stringify(helper ? { credHelpers: { [REGISTRY]: 'ecr-login' } } : {}),
        );
        const env = world.env({ REGISTRY_AUTH_FILE: authFile });
        return world.run('skopeo', ['copy', '--quiet', `docker://${STAND_IN}`, `oci:${dest}:copied`], {
          env,
        });
      };

      const without = await copy(false, join(home, 'skopeo', 'without'));
      expect(without.code).not.toBe(0);
      expect(without.stderr).toContain(CONTAINERS_NO_AUTH);

      const dest = join(home, 'skopeo', 'with');
      const copied = await copy(true, dest);
      expect(copied.stderr, world.logs()).toBe('');
      expect(copied.code).toBe(0);
      const index = JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')) as {
        manifests: { digest: string }[];
      };
      expect(index.manifests.map((m) => m.digest)).toEqual([world.image.manifestDigest]);
      expectNoSecret(copied);
    });

    it('podman pull with credential-helpers in registries.conf: unauthorized without, pulled with', async () => {
      const storage = join(home, 'podman');
      // prettier-ignore
      const podman = [
      '--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs',
      '--tmpdir', join(storage, 'tmp'), '--network-config-dir', join(storage, 'net'),
      '--events-backend', 'none', '--cgroup-manager', 'cgroupfs',
    ];
      const authFile = file(join(storage, 'auth.json'), '{}');
      const pull = (helper: boolean) => {
        // The registries.conf way to name a helper, for every registry: the auth file is not read.
        const conf = file(
          join(storage, helper ? 'helper.conf' : 'none.conf'),
          helper ? 'credential-helpers = ["ecr-login"]\n' : '',
        );
        const env = world.env({ CONTAINERS_REGISTRIES_CONF: conf, REGISTRY_AUTH_FILE: authFile });
        return world.run('podman', [...podman, 'pull', '--quiet', STAND_IN], { env });
      };

      const without = await pull(false);
      expect(without.code).not.toBe(0);
      expect(without.stderr).toContain(CONTAINERS_NO_AUTH);

      const pulled = await pull(true);
      expect(pulled.stderr, world.logs()).toBe('');
      expect(pulled.code).toBe(0);
      expect(`sha256:${pulled.stdout.trim()}`).toBe(world.image.configDigest);
      expectNoSecret(pulled);
    });
  },
);
