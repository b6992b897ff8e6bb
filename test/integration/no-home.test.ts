/**
 * A container run with `--user 4242`: no HOME and no passwd entry, so os.homedir() throws. The
 * helper (and the AWS SDK under it) must still answer with a token, without a cache.
 */
import { copyFileSync, chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeEcsCredentials } from '../fakes';
import { useFixture } from '../support/fixture';
import { HELPER, KEYS, REGISTRY, runProcess } from '../support/helper';
import { checkRun, rememberSecret } from '../support/secrets';

const f = useFixture();
const UID = '4242';
const asRoot = process.getuid?.() === 0;

/**
 * The helper where uid 4242 can run it: the sandbox home is 0700 and the checkout may be too. The
 * npm bin needs its sibling bundles beside it.
 */
function reachableHelper(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecr-login-nohome-'));
  chmodSync(dir, 0o755);
  f.stopLater(async () => rmSync(dir, { recursive: true, force: true }));
  const names = HELPER.endsWith('.cjs')
    ? readdirSync(dirname(HELPER)).filter((name) => name.endsWith('.cjs'))
    : [basename(HELPER)];
  for (const name of names) copyFileSync(join(dirname(HELPER), name), join(dir, name));
  chmodSync(join(dir, basename(HELPER)), 0o755);
  return join(dir, basename(HELPER));
}

/** `env -i` with only `vars`, as a uid with no passwd entry. */
async function getAsStranger(vars: Record<string, string>) {
  const helper = reachableHelper();
  const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ...vars };
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const run = await runProcess(
    'setpriv',
    [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', 'env', '-i', ...assignments, helper, 'get'],
    { env: process.env, input: REGISTRY },
  );
  checkRun(run, env);
  return run;
}

describe.skipIf(!asRoot)('a uid with no home and no passwd entry', () => {
  it('gets a token with env keys', async () => {
    const run = await getAsStranger({
      ...KEYS,
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ServerURL: REGISTRY, Username: 'AWS' });
    expect(f.ecr.calls[0].accessKeyId).toBe(KEYS.AWS_ACCESS_KEY_ID);
  });

  it('gets a token with container credentials, where the SDK walks the ini and SSO providers first', async () => {
    const ecs = await startFakeEcsCredentials();
    f.stopLater(() => ecs.close());
    rememberSecret(ecs.credentials.SecretAccessKey, ecs.credentials.Token);
    const run = await getAsStranger({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url,
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ServerURL: REGISTRY, Username: 'AWS' });
    expect(f.ecr.calls[0].accessKeyId).toBe(ecs.credentials.AccessKeyId);
  });
});
