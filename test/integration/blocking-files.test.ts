import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixture } from '../support/fixture';
import { REGISTRY, runHelper } from '../support/helper';

const f = useFixture();
const BUDGET_S = 2;

function fifo(name: string): string {
  const path = join(f.box.home, name);
  mkdirSync(join(path, '..'), { recursive: true });
  execFileSync('mkfifo', [path]);
  return path;
}

/** Each file the AWS SDK reads by itself, as a FIFO nobody writes to: reading it would never return. */
const CASES: [string, () => NodeJS.ProcessEnv, string][] = [
  [
    '~/.aws/config (read by the SDK even for env keys)',
    () => {
      fifo('.aws/config');
      const env = f.env();
      delete env.AWS_CONFIG_FILE;
      return env;
    },
    '.aws/config (the AWS config file)',
  ],
  [
    'AWS_SHARED_CREDENTIALS_FILE',
    () => f.box.env({ AWS_SHARED_CREDENTIALS_FILE: fifo('creds'), AWS_ENDPOINT_URL_ECR: f.ecr.url }),
    'creds (the AWS credentials file)',
  ],
  [
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    () =>
      f.box.env({
        AWS_WEB_IDENTITY_TOKEN_FILE: fifo('web-identity-token'),
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/ci',
        AWS_ENDPOINT_URL_ECR: f.ecr.url,
      }),
    'web-identity-token (AWS_WEB_IDENTITY_TOKEN_FILE)',
  ],
  [
    'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
    () =>
      f.box.env({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:9/v1/credentials',
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: fifo('pod-identity-token'),
        AWS_ENDPOINT_URL_ECR: f.ecr.url,
      }),
    'pod-identity-token (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)',
  ],
];

describe('a FIFO where the AWS SDK reads a file', () => {
  it.each(CASES)('%s: not-found with the reason, within the budget', async (_name, setup, named) => {
    const env = { ...setup(), AWS_ECR_TIMEOUT: String(BUDGET_S) };
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run).toMatchObject({ status: 1, stdout: 'credentials not found in native keychain\n' });
    expect(run.stderr).toBe(
      `ecr-login: no token for ${REGISTRY}: ${join(f.box.home, named)} is not a regular file: ` +
        'the AWS SDK would wait on it forever; not using it\n',
    );
    expect(run.ms).toBeLessThan((BUDGET_S + 1) * 1000);
    expect(f.ecr.calls).toHaveLength(0);

    const doctor = await runHelper(['doctor', REGISTRY, '--json'], { env });
    expect(doctor.status).toBe(1);
    const report = JSON.parse(doctor.stdout) as { ok: boolean; problems: string[] };
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain(`${join(f.box.home, named)} is not a regular file`);
  });
});
