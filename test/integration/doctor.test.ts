import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  startFakeEcsCredentials,
  startFakeImds,
  startFakeSts,
  type FakeEcsCredentials,
  type FakeSts,
} from '../fakes';
import { useFixture } from '../support/fixture';
import { HELPER, REGISTRY, runHelper } from '../support/helper';

const f = useFixture();
const TASK_ROLE = 'arn:aws:sts::123456789012:assumed-role/ci-task-role/7f9c';

interface World {
  ecs: FakeEcsCredentials;
  sts: FakeSts;
  env: NodeJS.ProcessEnv;
}

/** An ECS task: credentials from the container endpoint, STS that knows them, docker routed to us. */
async function ecsTask(dockerConfig: object = { credHelpers: { [REGISTRY]: 'ecr-login' } }): Promise<World> {
  const ecs = await startFakeEcsCredentials();
  f.stopLater(() => ecs.close());
  const sts = await startFakeSts({
    identities: {
      [ecs.credentials.AccessKeyId]: { arn: TASK_ROLE, account: '123456789012', userId: 'AROA:7f9c' },
    },
  });
  f.stopLater(() => sts.close());
  const dockerDir = join(f.box.home, '.docker');
  mkdirSync(dockerDir, { recursive: true });
  writeFileSync(join(dockerDir, 'config.json'), JSON.stringify(dockerConfig));
  const env = f.box.env({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url,
    AWS_ENDPOINT_URL_ECR: f.ecr.url,
    AWS_ENDPOINT_URL_STS: sts.url,
  });
  return { ecs, sts, env };
}

function expectNoSecrets(output: string, world: World) {
  expect(output).not.toContain(world.ecs.credentials.SecretAccessKey);
  expect(output).not.toContain(world.ecs.credentials.Token);
  for (const call of f.ecr.calls)
    for (const password of call.passwords) expect(output).not.toContain(password);
}

describe('doctor', () => {
  it('explains a working setup: registry, routing, source, identity, cache, token', async () => {
    const world = await ecsTask();
    const run = await runHelper(['doctor', REGISTRY], { env: world.env });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('ECR, account 123456789012, region us-west-2, partition aws');
    expect(run.stdout).toContain(`endpoint     ${f.ecr.url}`);
    expect(run.stdout).toContain('credHelpers routes it to ecr-login');
    expect(run.stdout).toContain('container credentials');
    expect(run.stdout).toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI is set');
    expect(run.stdout).toContain(`identity     ${TASK_ROLE}`);
    expect(run.stdout).toMatch(/cache +empty/);
    expect(run.stdout).toMatch(/token +OK, expires 20/);
    expect(run.stdout).toContain('result       OK');
    expect(world.sts.calls.map((c) => c.action)).toEqual(['GetCallerIdentity']);
    expect(f.ecr.calls).toHaveLength(1);
    expectNoSecrets(run.stdout + run.stderr, world);
  });

  it('names the GovCloud partition of a GovCloud registry', async () => {
    const run = await runHelper(['doctor', '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com', '--offline'], {
      env: f.env(),
    });
    expect(run.stdout).toContain('ECR, account 123456789012, region us-gov-west-1, partition aws-us-gov');
  });

  it('turns AccessDenied into the identity and a least-privilege policy, exit 1', async () => {
    const world = await ecsTask();
    f.ecr.setBehaviour({
      error: {
        type: 'AccessDeniedException',
        message: `User: ${TASK_ROLE} is not authorized to perform: ecr:GetAuthorizationToken on resource: *`,
      },
    });
    const run = await runHelper(['doctor', REGISTRY], { env: world.env });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('token        FAILED: AccessDeniedException');
    expect(run.stdout).toContain(`Allow ${TASK_ROLE} to pull`);
    expect(run.stdout).toContain('"ecr:GetAuthorizationToken"');
    expect(run.stdout).toContain('arn:aws:ecr:us-west-2:123456789012:repository/*');
    expect(run.stdout).toContain('NOT OK');
    expectNoSecrets(run.stdout + run.stderr, world);
  });

  it('--json gives the same facts to machines', async () => {
    const world = await ecsTask();
    const run = await runHelper(['doctor', REGISTRY, '--json'], { env: world.env });
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      host: REGISTRY,
      ok: true,
      registry: { service: 'ecr', account: '123456789012', region: 'us-west-2', fips: false },
      docker: { routed: true },
      credentials: { kind: 'container' },
      identityArn: TASK_ROLE,
      token: { ok: true },
    });
  });

  it('--offline makes no network call and reports the cache', async () => {
    const world = await ecsTask();
    await runHelper(['get'], { input: REGISTRY, env: world.env });
    const before = { ecs: world.ecs.requests.length, ecr: f.ecr.calls.length, sts: world.sts.calls.length };
    const run = await runHelper(['doctor', REGISTRY, '--offline'], { env: world.env });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /cache +fresh: refresh after 20\S+, expires 20\S+ \(.*token-cache.json, mode 0600\)/,
    );
    expect({ ecs: world.ecs.requests.length, ecr: f.ecr.calls.length, sts: world.sts.calls.length }).toEqual(
      before,
    );
  });

  it('checks every ECR host of the docker config when none is named, and spots a shadowing auths entry', async () => {
    const other = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
    const world = await ecsTask({
      credHelpers: { [REGISTRY]: 'ecr-login' },
      auths: { [`https://${other}`]: { auth: Buffer.from('AWS:old-password').toString('base64') } },
    });
    const run = await runHelper(['doctor', '--offline', '--json'], { env: world.env });
    const reports = JSON.parse(run.stdout) as { host: string; docker: { routed: boolean; detail: string } }[];
    expect(reports.map((r) => r.host)).toEqual([REGISTRY, other]);
    expect(reports[1].docker.routed).toBe(false);
    expect(reports[1].docker.detail).toContain('static password an old `docker login` stored');
    expect(run.stdout).not.toContain('old-password');
  });

  it('gives the hop-limit advice when the IMDSv2 token request hangs', async () => {
    const imds = await startFakeImds({ behaviour: 'hangTokenPut' });
    f.stopLater(() => imds.close());
    const run = await runHelper(['doctor', REGISTRY], {
      env: f.box.env({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, AWS_ENDPOINT_URL_ECR: f.ecr.url }),
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('the IMDSv2 session-token request timed out');
    expect(run.stdout).toContain('--http-put-response-hop-limit 2');
    expect(run.stdout).toContain('token        FAILED: NotTried');
  });

  it('warns when a container on ECS would use the instance role (docker-in-docker)', async () => {
    const imds = await startFakeImds();
    f.stopLater(() => imds.close());
    const run = await runHelper(['doctor', REGISTRY, '--offline'], {
      env: f.box.env({
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
        ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x',
      }),
    });
    expect(run.stdout).toContain('would use the EC2 instance role');
    expect(run.stdout).toContain('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI');
    expect(imds.requests).toHaveLength(0);
  });

  it('shows a per-registry mapping and the helper missing from PATH', async () => {
    // A PATH with only node on it (the helper may be a node script), no docker-credential-ecr-login.
    const nodeOnly = join(f.box.home, 'node-only');
    mkdirSync(nodeOnly);
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
    const run = await runHelper(['doctor', REGISTRY, '--offline'], {
      env: {
        ...f.env({ AWS_ECR_ROLE_ARN_123456789012: 'arn:aws:iam::123456789012:role/pull' }),
        PATH: nodeOnly,
      },
    });
    expect(run.stdout).toContain('assuming arn:aws:iam::123456789012:role/pull');
    expect(run.stdout).toContain('AWS_ECR_ROLE_ARN_123456789012 maps this registry');
    expect(run.stdout).toContain('no executable named docker-credential-ecr-login on PATH');
  });

  it('spots another docker-credential-ecr-login earlier on PATH (an old install, the Go helper)', async () => {
    const shadow = join(f.box.home, 'shadow');
    mkdirSync(shadow);
    writeFileSync(join(shadow, 'docker-credential-ecr-login'), '#!/bin/sh\necho go-helper\n', {
      mode: 0o755,
    });
    const env = f.env();
    const run = await runHelper(['doctor', REGISTRY, '--offline'], {
      env: { ...env, PATH: `${shadow}:${env.PATH}` },
    });
    expect(run.stdout).toContain(`docker will run ${join(shadow, 'docker-credential-ecr-login')}`);
    expect(run.stdout).toContain('which is not this program');
    const ours = await runHelper(['doctor', REGISTRY, '--offline'], { env });
    expect(ours.stdout).not.toContain('which is not this program');
  });

  it('knows a copy of itself on PATH, however large (the single executable is over 100 MB)', async () => {
    const copy = join(f.box.home, 'copy');
    mkdirSync(copy);
    copyFileSync(HELPER, join(copy, 'docker-credential-ecr-login'));
    chmodSync(join(copy, 'docker-credential-ecr-login'), 0o755);
    const env = f.env();
    const run = await runHelper(['doctor', REGISTRY, '--offline'], {
      env: { ...env, PATH: `${copy}:${env.PATH}` },
    });
    expect(run.stdout).toContain(`helper       ${join(copy, 'docker-credential-ecr-login')}`);
    expect(run.stdout).not.toContain('which is not this program');
  });

  it('rejects a host that is not ECR and unknown options', async () => {
    const notEcr = await runHelper(['doctor', 'ghcr.io', '--offline'], { env: f.env() });
    expect(notEcr.status).toBe(1);
    expect(notEcr.stdout).toContain('not an ECR or ECR Public registry host');
    const bad = await runHelper(['doctor', '--frobnicate'], { env: f.env() });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('unknown option --frobnicate (see doctor --help)');
  });

  it('has --help, on the shared flag parser', async () => {
    const help = await runHelper(['doctor', '--help'], { env: f.env() });
    expect(help).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^Usage: docker-credential-ecr-login doctor/),
    });
    const valued = await runHelper(['doctor', '--json=yes'], { env: f.env() });
    expect(valued).toMatchObject({ status: 1, stderr: expect.stringContaining('--json takes no value') });
  });

  it('never says OK beside a problem: a token, but docker does not route the host to the helper', async () => {
    const world = await ecsTask({ credHelpers: {} });
    const run = await runHelper(['doctor', REGISTRY], { env: world.env });
    expect(run.stdout).toMatch(/token +OK/);
    expect(run.stdout).toMatch(/problem /);
    expect(run.stdout).toContain('result       NOT OK');
    expect(run.status).toBe(1);
  });

  it('--offline says what it did not check, and why an empty cache is NOT OK', async () => {
    const world = await ecsTask();
    const run = await runHelper(['doctor', REGISTRY, '--offline'], { env: world.env });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('not checked  credentials, identity and a GetAuthorizationToken');
    expect(run.stdout).toContain(
      'problem      no usable token in the cache (empty), and --offline asked AWS for none',
    );
    expect(f.ecr.calls).toHaveLength(0);
  });
});
