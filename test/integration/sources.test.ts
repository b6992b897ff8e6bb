import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTestCa, startConnectProxy, startFakeEcr, startFakeSso, startFakeSts } from '../fakes';
import { useFixture } from '../support/fixture';
import { HELPER, KEYS, REGISTRY, runHelper } from '../support/helper';

const f = useFixture();

function writeAwsFile(name: 'config' | 'credentials', text: string) {
  mkdirSync(join(f.box.home, '.aws'), { recursive: true });
  writeFileSync(join(f.box.home, '.aws', name), text);
}

describe('profiles and web identity through STS', () => {
  it('assumes the role of AWS_PROFILE from its source_profile, and caches per profile', async () => {
    const sts = await startFakeSts({
      identities: {
        AKIDSOURCE0000000001: {
          arn: 'arn:aws:iam::111122223333:user/ci',
          account: '111122223333',
          userId: 'AIDA1',
        },
      },
    });
    f.stopLater(() => sts.close());
    writeAwsFile(
      'credentials',
      '[source]\naws_access_key_id = AKIDSOURCE0000000001\naws_secret_access_key = s3cr3t\n',
    );
    writeAwsFile(
      'config',
      '[profile puller]\nrole_arn = arn:aws:iam::123456789012:role/ecr-pull\nsource_profile = source\nregion = us-west-2\n',
    );
    const env = f.box.env({
      AWS_PROFILE: 'puller',
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
      AWS_ENDPOINT_URL_STS: sts.url,
    });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(sts.calls).toHaveLength(1);
    expect(sts.calls[0]).toMatchObject({
      action: 'AssumeRole',
      roleArn: 'arn:aws:iam::123456789012:role/ecr-pull',
    });
    expect(sts.calls[0].accessKeyId).toBe('AKIDSOURCE0000000001');
    expect(f.ecr.calls[0].accessKeyId).toBe(sts.calls[0].issued?.accessKeyId);

    await runHelper(['get'], { input: REGISTRY, env });
    expect(sts.calls).toHaveLength(1);
    expect(f.ecr.calls).toHaveLength(1);
  });

  it('uses an IAM Identity Center (SSO) profile from the token `aws sso login` cached', async () => {
    const accessToken = 'sso-access-token-from-aws-sso-login';
    const sso = await startFakeSso(accessToken);
    f.stopLater(() => sso.close());
    writeAwsFile(
      'config',
      [
        '[profile dev]',
        'sso_session = corp',
        'sso_account_id = 123456789012',
        'sso_role_name = ECRPull',
        'region = us-west-2',
        '[sso-session corp]',
        'sso_start_url = https://corp.awsapps.com/start',
        'sso_region = us-east-1',
        '',
      ].join('\n'),
    );
    const cacheDir = join(f.box.home, '.aws', 'sso', 'cache');
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(
      join(cacheDir, `${createHash('sha1').update('corp').digest('hex')}.json`),
      JSON.stringify({
        accessToken,
        expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString(),
        region: 'us-east-1',
        startUrl: 'https://corp.awsapps.com/start',
      }),
    );
    const env = f.box.env({
      AWS_PROFILE: 'dev',
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
      AWS_ENDPOINT_URL_SSO: sso.url,
    });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(sso.requests).toEqual([
      expect.objectContaining({
        accountId: '123456789012',
        roleName: 'ECRPull',
        bearerToken: accessToken,
        status: 200,
      }),
    ]);
    expect(f.ecr.calls[0].accessKeyId).toBe(sso.credentials.accessKeyId);
  });

  it('uses web identity (IRSA, GitLab on EKS) when no keys or profile are set', async () => {
    const sts = await startFakeSts();
    f.stopLater(() => sts.close());
    const tokenFile = join(f.box.home, 'token');
    writeFileSync(
      tokenFile,
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2k6cnVubmVyIn0.sig',
    );
    const env = f.box.env({
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/gitlab-runner',
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
      AWS_ENDPOINT_URL_STS: sts.url,
    });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(sts.calls[0]).toMatchObject({
      action: 'AssumeRoleWithWebIdentity',
      roleArn: 'arn:aws:iam::123456789012:role/gitlab-runner',
    });
    expect(f.ecr.calls[0].accessKeyId).toBe(sts.calls[0].issued?.accessKeyId);
  });

  it('runs credential_process profiles', async () => {
    const script = join(f.box.home, 'creds.sh');
    writeFileSync(
      script,
      `#!/bin/sh\necho '{"Version":1,"AccessKeyId":"AKIDPROCESS000000001","SecretAccessKey":"x","SessionToken":"t"}'\n`,
      { mode: 0o755 },
    );
    writeAwsFile('config', `[profile proc]\ncredential_process = ${script}\n`);
    f.ecr.credentials.set('AKIDPROCESS000000001', 'x');
    const run = await runHelper(['get'], {
      input: REGISTRY,
      env: f.box.env({ AWS_PROFILE: 'proc', AWS_ENDPOINT_URL_ECR: f.ecr.url }),
    });
    expect(run.status).toBe(0);
    expect(f.ecr.calls[0]).toMatchObject({ accessKeyId: 'AKIDPROCESS000000001', verified: true });
  });
});

const KEY_PAIR = { [KEYS.AWS_ACCESS_KEY_ID]: KEYS.AWS_SECRET_ACCESS_KEY };

describe('endpoints: FIPS, dual-stack, proxies and CA bundles', () => {
  it.each([
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', 'api.ecr-fips.us-east-1.amazonaws.com:443'],
    ['123456789012.dkr-ecr.us-west-2.on.aws', 'ecr.us-west-2.api.aws:443'],
    ['123456789012.dkr-ecr-fips.us-east-1.on.aws', 'ecr-fips.us-east-1.api.aws:443'],
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com', 'api.ecr.us-west-2.amazonaws.com:443'],
    ['public.ecr.aws', 'api.ecr-public.us-east-1.amazonaws.com:443'],
  ])('%s is served from %s, reached through HTTPS_PROXY', async (host, target) => {
    const proxy = await startConnectProxy();
    f.stopLater(() => proxy.close());
    const run = await runHelper(['get'], {
      input: host,
      env: f.box.env({ ...KEYS, HTTPS_PROXY: proxy.url, AWS_ECR_TIMEOUT: '3' }),
    });
    expect(run.status).toBe(1);
    expect(proxy.connects.map((c) => c.target)).toContain(target);
    expect(new Set(proxy.connects.map((c) => c.target))).toEqual(new Set([target]));
  });

  it('gets a token over HTTPS through the proxy, trusting AWS_CA_BUNDLE', async () => {
    const ca = await makeTestCa(f.box.home);
    const tlsEcr = await startFakeEcr({ tls: { key: ca.key, cert: ca.cert }, credentials: KEY_PAIR });
    const proxy = await startConnectProxy({ upstream: { port: tlsEcr.port } });
    f.stopLater(() => tlsEcr.close());
    f.stopLater(() => proxy.close());
    const env = f.box.env({ ...KEYS, HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: ca.caCertPath });
    const run = await runHelper(['get'], { input: '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', env });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(tlsEcr.calls[0]).toMatchObject({
      servername: 'api.ecr-fips.us-east-1.amazonaws.com',
      region: 'us-east-1',
    });

    // Without the bundle the proxy's certificate is not trusted.
    const untrusted = await runHelper(['get'], {
      input: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
      env: f.box.env({ ...KEYS, HTTPS_PROXY: proxy.url, AWS_ECR_TIMEOUT: '3' }),
    });
    expect(untrusted.status).toBe(1);
    expect(tlsEcr.calls).toHaveLength(1);
  });

  it('still refuses a certificate that AWS_CA_BUNDLE does not vouch for, through the proxy and directly', async () => {
    const signer = await makeTestCa(mkdtempSync(join(f.box.home, 'signer-')));
    const other = await makeTestCa(mkdtempSync(join(f.box.home, 'other-')));
    const tlsEcr = await startFakeEcr({ tls: { key: signer.key, cert: signer.cert }, credentials: KEY_PAIR });
    const proxy = await startConnectProxy({ upstream: { port: tlsEcr.port } });
    f.stopLater(() => tlsEcr.close());
    f.stopLater(() => proxy.close());
    const env = (extra: NodeJS.ProcessEnv) =>
      f.box.env({ ...KEYS, AWS_ECR_DISABLE_CACHE: 'true', AWS_ECR_TIMEOUT: '3', ...extra });
    const direct = { AWS_ENDPOINT_URL_ECR: `https://localhost:${tlsEcr.port}` };
    for (const route of [{ HTTPS_PROXY: proxy.url }, direct]) {
      const refused = await runHelper(['get'], {
        input: REGISTRY,
        env: env({ ...route, AWS_CA_BUNDLE: other.caCertPath }),
      });
      expect(refused.status).toBe(1);
      expect(refused.stdout.trim()).toBe('credentials not found in native keychain');
      expect(tlsEcr.calls).toHaveLength(0);
    }
    // Control: the signer's bundle makes the same requests succeed.
    for (const route of [{ HTTPS_PROXY: proxy.url }, direct]) {
      const trusted = await runHelper(['get'], {
        input: REGISTRY,
        env: env({ ...route, AWS_CA_BUNDLE: signer.caCertPath }),
      });
      expect(trusted.status).toBe(0);
    }
    expect(tlsEcr.calls).toHaveLength(2);
  });

  // AWS_CA_BUNDLE is added to Node's default store, which on Node 22 holds NODE_EXTRA_CA_CERTS
  // (the copy Node 20 adds it to does not).
  const nodeBin = HELPER.endsWith('.cjs');
  it.skipIf(nodeBin && Number(process.versions.node.split('.')[0]) < 22)(
    "trusts Node's default store besides AWS_CA_BUNDLE (NODE_EXTRA_CA_CERTS on Node 22)",
    async () => {
      const signer = await makeTestCa(mkdtempSync(join(f.box.home, 'signer-')));
      const other = await makeTestCa(mkdtempSync(join(f.box.home, 'other-')));
      const tlsEcr = await startFakeEcr({
        tls: { key: signer.key, cert: signer.cert },
        credentials: KEY_PAIR,
      });
      const proxy = await startConnectProxy({ upstream: { port: tlsEcr.port } });
      f.stopLater(() => tlsEcr.close());
      f.stopLater(() => proxy.close());
      const direct = { AWS_ENDPOINT_URL_ECR: `https://localhost:${tlsEcr.port}` };
      for (const route of [{ HTTPS_PROXY: proxy.url }, direct]) {
        const env = f.box.env({
          ...KEYS,
          ...route,
          AWS_ECR_DISABLE_CACHE: 'true',
          AWS_CA_BUNDLE: other.caCertPath,
          NODE_EXTRA_CA_CERTS: signer.caCertPath,
        });
        const run = await runHelper(['get'], { input: REGISTRY, env });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
      }
      expect(tlsEcr.calls).toHaveLength(2);
    },
  );

  it('bypasses the proxy for NO_PROXY hosts', async () => {
    const ca = await makeTestCa(f.box.home);
    const tlsEcr = await startFakeEcr({ tls: { key: ca.key, cert: ca.cert }, credentials: KEY_PAIR });
    const proxy = await startConnectProxy();
    f.stopLater(() => tlsEcr.close());
    f.stopLater(() => proxy.close());
    const env = (extra: NodeJS.ProcessEnv) =>
      f.box.env({
        ...KEYS,
        HTTPS_PROXY: proxy.url,
        AWS_CA_BUNDLE: ca.caCertPath,
        AWS_ENDPOINT_URL_ECR: `https://127.0.0.1:${tlsEcr.port}`,
        AWS_ECR_DISABLE_CACHE: 'true',
        AWS_ECR_TIMEOUT: '3',
        ...extra,
      });
    expect((await runHelper(['get'], { input: REGISTRY, env: env({}) })).status).toBe(1);
    expect(proxy.connects.map((c) => c.target)).toEqual([`127.0.0.1:${tlsEcr.port}`]);
    for (const noProxy of ['127.0.0.1', 'localhost,127.0.0.1', '*']) {
      const run = await runHelper(['get'], { input: REGISTRY, env: env({ NO_PROXY: noProxy }) });
      expect(run.status).toBe(0);
    }
    expect(proxy.connects).toHaveLength(1);
    expect(tlsEcr.calls).toHaveLength(3);
  });
});
