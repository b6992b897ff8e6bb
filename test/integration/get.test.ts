import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeEcsCredentials, startFakeImds } from '../fakes';
import { useFixture } from '../support/fixture';
import { KEYS, REGISTRY, runHelper } from '../support/helper';

const NOT_FOUND = 'credentials not found in native keychain\n';

const f = useFixture();
const withKeys = (extra: NodeJS.ProcessEnv = {}) => f.env(extra);

describe('get with env keys', () => {
  it('fetches a token signed for the registry, then answers from the cache', async () => {
    const miss = await runHelper(['get'], { input: REGISTRY, env: withKeys() });
    expect(miss.stderr).toBe('');
    expect(miss.status).toBe(0);
    expect(f.ecr.calls).toHaveLength(1);
    const call = f.ecr.calls[0];
    expect(call).toMatchObject({
      service: 'ecr',
      accessKeyId: KEYS.AWS_ACCESS_KEY_ID,
      region: 'us-west-2',
      signingService: 'ecr',
      registryIds: ['123456789012'],
      verified: true,
    });
    expect(JSON.parse(miss.stdout)).toEqual({
      ServerURL: REGISTRY,
      Username: 'AWS',
      Secret: call.passwords[0],
    });

    const hit = await runHelper(['get'], { input: REGISTRY, env: withKeys() });
    expect(hit.status).toBe(0);
    expect(hit.stdout).toBe(miss.stdout);
    expect(f.ecr.calls).toHaveLength(1);

    expect(statSync(f.box.cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(f.box.cacheDir, 'token-cache.json')).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['host:port', `${REGISTRY}:443`],
    ['https URL', `https://${REGISTRY}`],
    ['registry API path', `https://${REGISTRY}/v2/app/manifests/1`],
    ['http URL from logout', `http://${REGISTRY}`],
    ['repository path', `${REGISTRY}/team/app`],
    ['whitespace and upper case', `  ${REGISTRY.toUpperCase()}\n`],
  ])('accepts the %s form, echoing the key as ServerURL', async (_name, key) => {
    const run = await runHelper(['get'], { input: key, env: withKeys() });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ServerURL: key.trim(), Username: 'AWS' });
    expect(f.ecr.calls[0].registryIds).toEqual(['123456789012']);
  });

  it('never shares a token between identities', async () => {
    const other = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000002', AWS_SECRET_ACCESS_KEY: 'other-secret' };
    f.ecr.credentials.set(other.AWS_ACCESS_KEY_ID, other.AWS_SECRET_ACCESS_KEY);
    const a = await runHelper(['get'], { input: REGISTRY, env: withKeys() });
    const b = await runHelper(['get'], { input: REGISTRY, env: withKeys(other) });
    expect(f.ecr.calls.map((c) => c.accessKeyId)).toEqual([KEYS.AWS_ACCESS_KEY_ID, other.AWS_ACCESS_KEY_ID]);
    expect(JSON.parse(a.stdout).Secret).not.toBe(JSON.parse(b.stdout).Secret);
    const listA = await runHelper(['list'], { input: 'unused', env: withKeys() });
    expect(JSON.parse(listA.stdout)).toEqual({ [`https://${REGISTRY}`]: 'AWS' });
    const listNobody = await runHelper(['list'], {
      env: f.box.env({ AWS_ACCESS_KEY_ID: 'AKIDNOBODY00000', AWS_SECRET_ACCESS_KEY: 'x' }),
    });
    expect(JSON.parse(listNobody.stdout)).toEqual({});
  });

  it('serves every key that list prints', async () => {
    await runHelper(['get'], { input: REGISTRY, env: withKeys() });
    await runHelper(['get'], {
      input: 'public.ecr.aws',
      env: withKeys({ AWS_ENDPOINT_URL_ECR_PUBLIC: f.ecr.url }),
    });
    const listed = JSON.parse((await runHelper(['list'], { env: withKeys() })).stdout) as Record<
      string,
      string
    >;
    expect(Object.keys(listed).sort()).toEqual([`https://${REGISTRY}`, 'https://public.ecr.aws']);
    for (const key of Object.keys(listed)) {
      const run = await runHelper(['get'], { input: key, env: withKeys() });
      expect(run.status).toBe(0);
    }
    expect(f.ecr.calls).toHaveLength(2);
  });

  it('disables the cache only for a true AWS_ECR_DISABLE_CACHE', async () => {
    for (let i = 0; i < 2; i++)
      await runHelper(['get'], { input: REGISTRY, env: withKeys({ AWS_ECR_DISABLE_CACHE: 'true' }) });
    expect(f.ecr.calls).toHaveLength(2);
    for (let i = 0; i < 2; i++)
      await runHelper(['get'], { input: REGISTRY, env: withKeys({ AWS_ECR_DISABLE_CACHE: 'false' }) });
    expect(f.ecr.calls).toHaveLength(3);
  });

  it('uses AWS_ECR_CACHE_DIR', async () => {
    const dir = join(f.box.home, 'elsewhere');
    await runHelper(['get'], { input: REGISTRY, env: withKeys({ AWS_ECR_CACHE_DIR: dir }) });
    expect(JSON.parse(readFileSync(join(dir, 'token-cache.json'), 'utf8')).format).toBe('ecr-login-cache/1');
  });

  it('rebuilds a corrupt cache file instead of failing', async () => {
    mkdirSync(f.box.cacheDir, { recursive: true });
    writeFileSync(join(f.box.cacheDir, 'token-cache.json'), '{"format":"ecr-login-cache/1","entries":{"x":');
    const run = await runHelper(['get'], { input: REGISTRY, env: withKeys() });
    expect(run.status).toBe(0);
    expect(JSON.parse(readFileSync(join(f.box.cacheDir, 'token-cache.json'), 'utf8')).entries).toBeTypeOf(
      'object',
    );
  });

  it('keeps secrets out of the log and carries on when the log cannot be written', async () => {
    const run = await runHelper(['get'], { input: REGISTRY, env: withKeys({ AWS_ECR_LOG_LEVEL: 'debug' }) });
    await runHelper(['get'], { input: REGISTRY, env: withKeys({ AWS_ECR_LOG_LEVEL: 'debug' }) });
    const log = readFileSync(join(f.box.cacheDir, 'log', 'ecr-login.log'), 'utf8');
    expect(log).toContain('fetching token');
    expect(log).toContain('debug cache hit host="123456789012.dkr.ecr.us-west-2.amazonaws.com"');
    expect(log).toMatch(
      /info fetched token host="123456789012.dkr.ecr.us-west-2.amazonaws.com" ms="\d+" expiresAt="20/,
    );
    expect(statSync(join(f.box.cacheDir, 'log', 'ecr-login.log')).mode & 0o777).toBe(0o600);
    const password = JSON.parse(run.stdout).Secret as string;
    // The base64 token ECR returns (what the SDK logs at debug) as well as the password inside it.
    const token = Buffer.from(`AWS:${password}`).toString('base64');
    for (const secret of [password, token, token.slice(0, 24), KEYS.AWS_SECRET_ACCESS_KEY]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toContain('QVdTO');
    // The SDK's debug output with the token field is there, so redaction really was exercised.
    expect(log).toContain('authorizationToken');

    const blocked = await runHelper(['get'], {
      input: REGISTRY,
      env: withKeys({
        AWS_ECR_LOG_FILE: '/etc/hostname/not-a-dir/ecr-login.log',
        AWS_ECR_DISABLE_CACHE: '1',
      }),
    });
    expect(blocked.status).toBe(0);
    expect(blocked.stderr).toBe('');
  });
});

describe('get with other credential sources', () => {
  it('uses ECS container credentials with the authorization token, then hits the cache without calling ECS', async () => {
    const ecs = await startFakeEcsCredentials({ authorization: 'task-auth-token' });
    f.stopLater(() => ecs.close());
    const env = f.box.env({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'task-auth-token',
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
    });
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    expect(ecs.requests.map((r) => r.authorization)).toEqual(['task-auth-token']);
    expect(f.ecr.calls[0]).toMatchObject({
      accessKeyId: ecs.credentials.AccessKeyId,
      sessionToken: ecs.credentials.Token,
    });
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    expect(ecs.requests).toHaveLength(1);
    expect(f.ecr.calls).toHaveLength(1);
  });

  it('sends the EKS Pod Identity token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, read at each fetch', async () => {
    const ecs = await startFakeEcsCredentials({
      path: '/v1/credentials',
      authorization: 'projected-token-1',
    });
    f.stopLater(() => ecs.close());
    const tokenFile = join(f.box.home, 'eks-pod-identity-token');
    writeFileSync(tokenFile, 'projected-token-1');
    const env = f.box.env({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
    });
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    expect(ecs.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/v1/credentials', 'projected-token-1'],
    ]);
    expect(f.ecr.calls[0].accessKeyId).toBe(ecs.credentials.AccessKeyId);
  });

  it('uses the instance profile over IMDSv2, and a warm get makes no IMDS request', async () => {
    const imds = await startFakeImds();
    f.stopLater(() => imds.close());
    const env = f.box.env({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, AWS_ENDPOINT_URL_ECR: f.ecr.url });
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    expect(imds.requests[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token' });
    expect(f.ecr.calls[0].accessKeyId).toBe(imds.credentials.AccessKeyId);
    const before = imds.requests.length;
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    expect(imds.requests).toHaveLength(before);
  });

  it('uses ECR Public in us-east-1 for public.ecr.aws and ecr-public.aws.com', async () => {
    const env = withKeys({ AWS_ENDPOINT_URL_ECR_PUBLIC: f.ecr.url });
    for (const host of ['public.ecr.aws', 'ecr-public.aws.com']) {
      const run = await runHelper(['get'], { input: host, env });
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ServerURL: host, Username: 'AWS' });
    }
    expect(f.ecr.calls.map((c) => [c.service, c.region, c.signingService])).toEqual([
      ['ecr-public', 'us-east-1', 'ecr-public'],
      ['ecr-public', 'us-east-1', 'ecr-public'],
    ]);
  });
});

describe('get failures', () => {
  it.each([
    ['Docker Hub', 'https://index.docker.io/v1/'],
    ['a look-alike host', `${REGISTRY}.evil.com`],
    ['binary input', Buffer.from([0x31, 0x00, 0xff, 0x0a])],
    ['input over the 64 KiB bound', 'x'.repeat(200 * 1024)],
  ])('answers not-found for %s, silently and without calling AWS', async (_name, input) => {
    const run = await runHelper(['get'], { input, env: withKeys() });
    expect(run).toMatchObject({ status: 1, stdout: NOT_FOUND, stderr: '' });
    expect(f.ecr.calls).toHaveLength(0);
  });

  it('turns AccessDenied into not-found on stdout and one line on stderr, without retrying', async () => {
    f.ecr.setBehaviour({
      error: {
        type: 'AccessDeniedException',
        message:
          'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action',
      },
    });
    const run = await runHelper(['get'], { input: REGISTRY, env: withKeys() });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(NOT_FOUND);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('access denied');
    expect(run.stderr).toContain('arn:aws:iam::123456789012:user/ci');
    expect(run.stderr).toContain('ecr:GetAuthorizationToken');
    expect(f.ecr.calls).toHaveLength(1);
  });

  it('says so when there are no credentials at all', async () => {
    const run = await runHelper(['get'], {
      input: REGISTRY,
      env: f.box.env({ AWS_ENDPOINT_URL_ECR: f.ecr.url, AWS_EC2_METADATA_DISABLED: 'true' }),
    });
    expect(run.stdout).toBe(NOT_FOUND);
    expect(run.stderr).toMatch(/no AWS credentials found/);
    expect(f.ecr.calls).toHaveLength(0);
  });

  it('stays quiet for ECR Public when there are no credentials: the pull goes anonymous', async () => {
    const run = await runHelper(['get'], {
      input: 'public.ecr.aws',
      env: f.box.env({ AWS_ENDPOINT_URL_ECR_PUBLIC: f.ecr.url, AWS_EC2_METADATA_DISABLED: 'true' }),
    });
    expect(run).toMatchObject({
      status: 1,
      stdout: 'credentials not found in native keychain\n',
      stderr: '',
    });
    // A refusal by AWS is still reported.
    f.ecr.setBehaviour({ error: { type: 'AccessDeniedException', message: 'denied' } });
    const denied = await runHelper(['get'], {
      input: 'public.ecr.aws',
      env: withKeys({ AWS_ENDPOINT_URL_ECR_PUBLIC: f.ecr.url }),
    });
    expect(denied.stderr).toContain('access denied');
  });

  it('remembers for a while that ECR Public has no credentials here, so later pulls do not wait on IMDS', async () => {
    const imds = await startFakeImds({ behaviour: 'hangTokenPut' });
    f.stopLater(() => imds.close());
    const env = f.box.env({
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
      AWS_ENDPOINT_URL_ECR_PUBLIC: f.ecr.url,
    });
    const first = await runHelper(['get'], { input: 'public.ecr.aws', env });
    expect(first).toMatchObject({
      status: 1,
      stdout: 'credentials not found in native keychain\n',
      stderr: '',
    });
    const tried = imds.requests.length;
    expect(tried).toBeGreaterThan(0);
    const second = await runHelper(['get'], { input: 'public.ecr.aws', env });
    expect(second).toMatchObject({
      status: 1,
      stdout: 'credentials not found in native keychain\n',
      stderr: '',
    });
    expect(imds.requests).toHaveLength(tried);
    expect(second.ms).toBeLessThan(first.ms);
    expect(JSON.parse((await runHelper(['list'], { env })).stdout)).toEqual({});
    // docker logout clears it; credentials that appear (another identity) are used at once.
    await runHelper(['erase'], { input: 'public.ecr.aws', env });
    await runHelper(['get'], { input: 'public.ecr.aws', env });
    expect(imds.requests.length).toBeGreaterThan(tried);
    const withKeysNow = await runHelper(['get'], { input: 'public.ecr.aws', env: { ...env, ...KEYS } });
    expect(withKeysNow.status).toBe(0);
  });

  it('honours AWS_MAX_ATTEMPTS like any AWS tool', async () => {
    f.ecr.setBehaviour({ error: { type: 'ThrottlingException', message: 'Rate exceeded' }, times: 2 });
    const run = await runHelper(['get'], { input: REGISTRY, env: withKeys({ AWS_MAX_ATTEMPTS: '1' }) });
    expect(run.status).toBe(1);
    expect(f.ecr.calls).toHaveLength(1);
    expect(run.stderr).toContain('ThrottlingException');
  });

  it('retries throttling and server errors, then succeeds', async () => {
    f.ecr.setBehaviour({ error: { type: 'ThrottlingException', message: 'Rate exceeded' }, times: 2 });
    const run = await runHelper(['get'], { input: REGISTRY, env: withKeys() });
    expect(run.status).toBe(0);
    expect(f.ecr.calls.map((c) => c.status)).toEqual([400, 400, 200]);
  });
});

describe('an unusable cache directory', () => {
  it('costs the cache, not the token', async () => {
    writeFileSync(join(f.box.home, 'plain-file'), '');
    const env = withKeys({ AWS_ECR_CACHE_DIR: join(f.box.home, 'plain-file', 'ecr'), AWS_ECR_LOG_FILE: '-' });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).Secret).toBe(f.ecr.calls[0].passwords[0]);
    expect(run.stderr).toContain(`not using the cache in ${join(f.box.home, 'plain-file', 'ecr')}`);
  });
});
