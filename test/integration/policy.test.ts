/** `policy` run as the built helper: the IAM JSON it prints, exactly. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REGISTRY, runHelper, Sandbox } from '../support/helper';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const PULL = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];
const PUSH = ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'];
const TOKEN = {
  Sid: 'EcrAuthorizationToken',
  Effect: 'Allow',
  Action: 'ecr:GetAuthorizationToken',
  Resource: '*',
};
const PUBLIC_TOKEN = {
  Sid: 'EcrPublicAuthorizationToken',
  Effect: 'Allow',
  Action: ['ecr-public:GetAuthorizationToken', 'sts:GetServiceBearerToken'],
  Resource: '*',
};

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(() => {
  box.cleanup();
});

async function policy(args: string[]): Promise<Statement[]> {
  const run = await runHelper(['policy', ...args], { env: box.env() });
  expect(run.status).toBe(0);
  const document = JSON.parse(run.stdout);
  expect(document.Version).toBe('2012-10-17');
  expect(Object.keys(document)).toEqual(['Version', 'Statement']);
  return document.Statement;
}

function actions(statements: Statement[]): string[] {
  return statements.flatMap((s) => s.Action).sort();
}

describe('policy', () => {
  it('pull: the token on *, and exactly the three pull actions on every repository', async () => {
    const statements = await policy([]);
    expect(statements).toEqual([
      TOKEN,
      { Sid: 'EcrPull', Effect: 'Allow', Action: PULL, Resource: 'arn:aws:ecr:*:*:repository/*' },
    ]);
  });

  it('--push adds exactly the four upload actions', async () => {
    const statements = await policy(['--push']);
    expect(actions(statements)).toEqual([...PULL, ...PUSH, 'ecr:GetAuthorizationToken'].sort());
    expect(statements[1].Sid).toBe('EcrPullPush');
  });

  it('--registry and --repository narrow the resource ARN', async () => {
    const statements = await policy([
      '--registry',
      REGISTRY,
      '--repository',
      'team/app',
      '--repository',
      'base',
    ]);
    expect(statements[1].Resource).toEqual([
      'arn:aws:ecr:us-west-2:123456789012:repository/team/app',
      'arn:aws:ecr:us-west-2:123456789012:repository/base',
    ]);
  });

  it('--account and --region narrow without a host', async () => {
    expect((await policy(['--account', '123456789012']))[1].Resource).toBe(
      'arn:aws:ecr:*:123456789012:repository/*',
    );
    expect((await policy(['--region', 'eu-west-1', '--repository', 'app-*']))[1].Resource).toBe(
      'arn:aws:ecr:eu-west-1:*:repository/app-*',
    );
  });

  it('uses the partition of China and GovCloud registries in the ARN', async () => {
    expect(
      (await policy(['--registry', '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn']))[1].Resource,
    ).toBe('arn:aws-cn:ecr:cn-north-1:123456789012:repository/*');
    // The GovCloud host ends in amazonaws.com, but its ARNs are aws-us-gov.
    expect(
      (await policy(['--registry', '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com']))[1].Resource,
    ).toBe('arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/*');
    expect((await policy(['--region', 'cn-northwest-1']))[1].Resource).toBe(
      'arn:aws-cn:ecr:cn-northwest-1:*:repository/*',
    );
  });

  it('--public alone: only the ECR Public token statement', async () => {
    expect(await policy(['--public'])).toEqual([PUBLIC_TOKEN]);
    expect(await policy(['--registry', 'public.ecr.aws'])).toEqual([PUBLIC_TOKEN]);
  });

  it('--public --push adds the ECR Public upload actions on its repository ARNs', async () => {
    const statements = await policy(['--public', '--push', '--registry', REGISTRY, '--repository', 'app']);
    expect(statements.map((s) => s.Sid)).toEqual([
      'EcrAuthorizationToken',
      'EcrPullPush',
      'EcrPublicAuthorizationToken',
      'EcrPublicPush',
    ]);
    expect(statements[3]).toEqual({
      Sid: 'EcrPublicPush',
      Effect: 'Allow',
      Action: [
        'ecr-public:BatchCheckLayerAvailability',
        'ecr-public:InitiateLayerUpload',
        'ecr-public:UploadLayerPart',
        'ecr-public:CompleteLayerUpload',
        'ecr-public:PutImage',
      ],
      Resource: 'arn:aws:ecr-public::*:repository/app',
    });
  });

  it('refuses a host that is not ECR, bad values and unknown flags with one line and exit 1', async () => {
    for (const args of [
      ['--registry', 'ghcr.io'],
      ['--account', '12'],
      ['--region', 'Mars'],
      ['--repository', 'UPPER'],
      ['--pull'],
    ]) {
      const run = await runHelper(['policy', ...args], { env: box.env() });
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^docker-credential-ecr-login policy: /);
    }
  });
});
