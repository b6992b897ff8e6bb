import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeEcsCredentials, startFakeSts } from '../fakes';
import { useFixture } from '../support/fixture';
import { KEYS, REGISTRY, runHelper } from '../support/helper';
import { rememberSecret } from '../support/secrets';

const f = useFixture();
const CENTRAL = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const ROLE = 'arn:aws:iam::210987654321:role/ecr-pull-from-central';

describe('per-registry identity', () => {
  it('assumes the role mapped to an account (session ecr-login) and leaves other registries alone', async () => {
    const sts = await startFakeSts();
    f.stopLater(() => sts.close());
    const env = f.env({ AWS_ECR_ROLE_ARN_210987654321: ROLE, AWS_ENDPOINT_URL_STS: sts.url });

    const central = await runHelper(['get'], { input: CENTRAL, env });
    expect(central.stderr).toBe('');
    expect(central.status).toBe(0);
    expect(sts.calls).toHaveLength(1);
    expect(sts.calls[0]).toMatchObject({
      action: 'AssumeRole',
      roleArn: ROLE,
      roleSessionName: 'ecr-login',
      accessKeyId: KEYS.AWS_ACCESS_KEY_ID,
    });
    expect(f.ecr.calls[0]).toMatchObject({
      accessKeyId: sts.calls[0].issued?.accessKeyId,
      region: 'eu-west-1',
    });

    const own = await runHelper(['get'], { input: REGISTRY, env });
    expect(own.status).toBe(0);
    expect(f.ecr.calls[1].accessKeyId).toBe(KEYS.AWS_ACCESS_KEY_ID);
    expect(sts.calls).toHaveLength(1);

    // Both are cached under their own identity, and list shows both for this environment.
    await runHelper(['get'], { input: CENTRAL, env });
    expect(f.ecr.calls).toHaveLength(2);
    const listed = JSON.parse((await runHelper(['list'], { env })).stdout);
    expect(Object.keys(listed).sort()).toEqual([`https://${CENTRAL}`, `https://${REGISTRY}`].sort());
    // Without the mapping the central token is another identity's: not listed, not served.
    const unmapped = JSON.parse((await runHelper(['list'], { env: f.env() })).stdout);
    expect(Object.keys(unmapped)).toEqual([`https://${REGISTRY}`]);
  });

  it('uses the profile a host is mapped to in the config file', async () => {
    mkdirSync(join(f.box.home, '.aws'), { recursive: true });
    writeFileSync(
      join(f.box.home, '.aws', 'credentials'),
      '[central]\naws_access_key_id = AKIDCENTRAL000000001\naws_secret_access_key = c\n',
    );
    mkdirSync(f.box.cacheDir, { recursive: true });
    writeFileSync(
      join(f.box.cacheDir, 'config.json'),
      JSON.stringify({ registries: { [CENTRAL]: { profile: 'central' } } }),
    );
    f.ecr.credentials.set('AKIDCENTRAL000000001', 'c');
    const run = await runHelper(['get'], { input: CENTRAL, env: f.env() });
    expect(run.status).toBe(0);
    expect(f.ecr.calls[0]).toMatchObject({ accessKeyId: 'AKIDCENTRAL000000001', verified: true });
    await runHelper(['get'], { input: REGISTRY, env: f.env() });
    expect(f.ecr.calls[1].accessKeyId).toBe(KEYS.AWS_ACCESS_KEY_ID);
  });

  it('reports a broken mapping file on stderr instead of guessing an identity', async () => {
    const config = join(f.box.home, 'ecr-config.json');
    writeFileSync(config, JSON.stringify({ registries: { '210987654321': { roleArn: 'not-an-arn' } } }));
    const run = await runHelper(['get'], { input: CENTRAL, env: f.env({ AWS_ECR_CONFIG: config }) });
    expect(run).toMatchObject({ status: 1, stdout: 'credentials not found in native keychain\n' });
    expect(run.stderr).toContain('"roleArn" must be an IAM role ARN');
    expect(f.ecr.calls).toHaveLength(0);
  });
});

const NOT_FOUND = 'credentials not found in native keychain\n';

describe('a mapping never falls back to the ambient identity', () => {
  /** An ECS task role that works for every registry not mapped elsewhere. */
  async function taskRole() {
    const ecs = await startFakeEcsCredentials();
    f.stopLater(() => ecs.close());
    rememberSecret(ecs.credentials.SecretAccessKey, ecs.credentials.Token);
    const env = f.box.env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url, AWS_ENDPOINT_URL_ECR: f.ecr.url });
    return { ecs, env };
  }

  async function doctor(host: string, env: NodeJS.ProcessEnv) {
    const text = await runHelper(['doctor', host], { env });
    const json = await runHelper(['doctor', host, '--json'], { env });
    return { text, json, report: JSON.parse(json.stdout) as { ok: boolean; problems: string[] } };
  }

  it('a mapped profile that does not exist: one line naming the mapping, no call signed by the task role', async () => {
    const { ecs, env: ambient } = await taskRole();
    const env: NodeJS.ProcessEnv = { ...ambient, AWS_ECR_PROFILE_210987654321: 'nosuch' };
    // The task role works: the registry that is not mapped gets a token signed by it.
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    expect(f.ecr.calls.map((c) => c.accessKeyId)).toEqual([ecs.credentials.AccessKeyId]);

    const run = await runHelper(['get'], { input: CENTRAL, env });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr).toBe(
      `ecr-login: no token for ${CENTRAL}: AWS_ECR_PROFILE_210987654321 maps this registry to profile nosuch, ` +
        `which is not in ${env.AWS_CONFIG_FILE} or ${env.AWS_SHARED_CREDENTIALS_FILE}\n`,
    );
    expect(f.ecr.calls).toHaveLength(1);
    expect(ecs.requests).toHaveLength(1);

    const { text, json, report } = await doctor(CENTRAL, env);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain(
      'problem      AWS_ECR_PROFILE_210987654321 maps this registry to profile nosuch',
    );
    expect(text.stdout).toContain('result       NOT OK');
    expect(json.status).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain('maps this registry to profile nosuch, which is not in');
    expect(f.ecr.calls).toHaveLength(1);
  });

  it('a profile in config.json without credentials is refused, not replaced by the env keys', async () => {
    mkdirSync(join(f.box.home, '.aws'), { recursive: true });
    writeFileSync(join(f.box.home, '.aws', 'config'), '[profile central]\nregion = eu-west-1\n');
    mkdirSync(f.box.cacheDir, { recursive: true, mode: 0o700 });
    writeFileSync(
      join(f.box.cacheDir, 'config.json'),
      JSON.stringify({ registries: { '210987654321': { profile: 'central' } } }),
    );
    const run = await runHelper(['get'], { input: CENTRAL, env: f.env() });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr.trim().split('\n')).toEqual([
      `ecr-login: no token for ${CENTRAL}: ${join(f.box.cacheDir, 'config.json')} registries["210987654321"] ` +
        'maps this registry to profile central, which has no credentials (no keys, role_arn with a source, SSO, ' +
        'credential_process or login session)',
    ]);
    expect(f.ecr.calls).toHaveLength(0);
    const { report } = await doctor(CENTRAL, f.env());
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain('which has no credentials');
  });

  it('a mapped profile whose credential_process fails is refused, its arguments never shown', async () => {
    const { ecs, env: ambient } = await taskRole();
    const argument = 'vault-token-s3cr3t';
    mkdirSync(join(f.box.home, '.aws'), { recursive: true });
    writeFileSync(
      join(f.box.home, '.aws', 'config'),
      `[profile central]\ncredential_process = /bin/false --token ${argument}\n`,
    );
    const env = { ...ambient, AWS_ECR_PROFILE_210987654321: 'central', AWS_ECR_LOG_LEVEL: 'debug' };
    const run = await runHelper(['get'], { input: CENTRAL, env });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      'AWS_ECR_PROFILE_210987654321 maps this registry to profile central, which yielded no credentials: ',
    );
    expect(run.stderr).not.toContain(argument);
    expect(f.ecr.calls).toHaveLength(0);
    expect(ecs.requests).toHaveLength(0);
    const { text, report } = await doctor(CENTRAL, env);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain('which yielded no credentials');
    expect(text.stdout).toContain('/bin/false');
    expect(text.stdout).not.toContain(argument);
    // The debug log saw the failure too, redacted (the shared assertion checks the file).
    expect(readFileSync(join(f.box.cacheDir, 'log', 'ecr-login.log'), 'utf8')).toContain('/bin/false');
  });

  it('a mapped role that STS refuses to let us assume is refused, not replaced by the env keys', async () => {
    const sts = await startFakeSts({
      behaviour: { error: { code: 'AccessDenied', message: 'not authorized to perform sts:AssumeRole' } },
    });
    f.stopLater(() => sts.close());
    const env = f.env({ AWS_ECR_ROLE_ARN_210987654321: ROLE, AWS_ENDPOINT_URL_STS: sts.url });
    const run = await runHelper(['get'], { input: CENTRAL, env });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr).toBe(
      `ecr-login: no token for ${CENTRAL}: AWS_ECR_ROLE_ARN_210987654321 maps this registry to role ${ROLE}, ` +
        'which could not be assumed: not authorized to perform sts:AssumeRole\n',
    );
    expect(sts.calls.map((c) => [c.action, c.accessKeyId])).toEqual([['AssumeRole', KEYS.AWS_ACCESS_KEY_ID]]);
    expect(f.ecr.calls).toHaveLength(0);
    const { text, report } = await doctor(CENTRAL, env);
    expect(text.stdout).toContain('which could not be assumed: not authorized to perform sts:AssumeRole');
    expect(report.ok).toBe(false);
    expect(f.ecr.calls).toHaveLength(0);
  });

  it('AWS_PROFILE naming a missing profile says so instead of trying the instance role', async () => {
    const env = f.env({ AWS_PROFILE: 'nosuch' });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND });
    expect(run.stderr).toBe(
      `ecr-login: no token for ${REGISTRY}: profile nosuch not found (AWS_PROFILE) in ` +
        `${env.AWS_CONFIG_FILE} or ${env.AWS_SHARED_CREDENTIALS_FILE}\n`,
    );
    expect(f.ecr.calls).toHaveLength(0);
    const { text, report } = await doctor(REGISTRY, env);
    expect(text.stdout).toContain('problem      profile nosuch not found (AWS_PROFILE)');
    expect(text.stdout).not.toContain('hop limit');
    expect(report.ok).toBe(false);
  });
});
