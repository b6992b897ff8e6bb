import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeSts } from '../fakes';
import { useFixture } from '../support/fixture';
import { KEYS, REGISTRY, runHelper } from '../support/helper';

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
