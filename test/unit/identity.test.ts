import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveIdentity } from '../../src/identity';

let dir: string;
let base: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'identity-'));
  base = {
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const keys = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000001', AWS_SECRET_ACCESS_KEY: 'secret-one' };

describe('resolveIdentity', () => {
  it('uses env keys, masks the key id and never exposes the secret', () => {
    const id = resolveIdentity({ ...base, ...keys });
    expect(id.kind).toBe('env');
    expect(id.label).toContain('AKID…0001');
    expect(JSON.stringify(id)).not.toContain('secret-one');
    expect(JSON.stringify(id)).not.toContain('AKIDEXAMPLE000000001');
  });

  it('tells keys apart by their key ID, the name of a key pair or a session', () => {
    const a = resolveIdentity({ ...base, ...keys }).fingerprint;
    expect(resolveIdentity({ ...base, ...keys }).fingerprint).toBe(a);
    expect(
      resolveIdentity({ ...base, ...keys, AWS_ACCESS_KEY_ID: 'ASIDEXAMPLE000000002' }).fingerprint,
    ).not.toBe(a);
    // Secret values take no part: a mistyped secret is the same (failing) identity.
    expect(resolveIdentity({ ...base, ...keys, AWS_SECRET_ACCESS_KEY: 'other' }).fingerprint).toBe(a);
  });

  it('keeps secrets in the credentials file out of the fingerprint, but follows key IDs', () => {
    writeFileSync(
      join(dir, 'credentials'),
      '[default]\naws_access_key_id = AKIDONE\naws_secret_access_key = s1\n',
    );
    const one = resolveIdentity(base).fingerprint;
    writeFileSync(
      join(dir, 'credentials'),
      '[default]\naws_access_key_id = AKIDONE\naws_secret_access_key = s2\n',
    );
    expect(resolveIdentity(base).fingerprint).toBe(one);
    writeFileSync(
      join(dir, 'credentials'),
      '[default]\naws_access_key_id = AKIDTWO\naws_secret_access_key = s1\n',
    );
    expect(resolveIdentity(base).fingerprint).not.toBe(one);
  });

  it('prefers AWS_PROFILE over env keys, as the SDK does', () => {
    writeFileSync(
      join(dir, 'config'),
      '[profile ci]\nrole_arn = arn:aws:iam::111122223333:role/ci\nsource_profile = base\n',
    );
    writeFileSync(
      join(dir, 'credentials'),
      '[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n',
    );
    const id = resolveIdentity({ ...base, ...keys, AWS_PROFILE: 'ci' });
    expect(id.kind).toBe('profile');
    expect(id.label).toBe('profile "ci" (assumes arn:aws:iam::111122223333:role/ci)');
  });

  it('follows source_profile: changing the source changes the identity', () => {
    writeFileSync(
      join(dir, 'config'),
      '[profile ci]\nrole_arn = arn:aws:iam::111122223333:role/ci\nsource_profile = base\n',
    );
    writeFileSync(
      join(dir, 'credentials'),
      '[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n',
    );
    const before = resolveIdentity({ ...base, AWS_PROFILE: 'ci' }).fingerprint;
    writeFileSync(
      join(dir, 'credentials'),
      '[base]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s\n',
    );
    expect(resolveIdentity({ ...base, AWS_PROFILE: 'ci' }).fingerprint).not.toBe(before);
  });

  it('uses the default profile when it has credentials, before web identity and the instance', () => {
    writeFileSync(
      join(dir, 'credentials'),
      '[default]\naws_access_key_id = AKIDDEFAULT1\naws_secret_access_key = s\n',
    );
    expect(resolveIdentity({ ...base, AWS_WEB_IDENTITY_TOKEN_FILE: '/t', AWS_ROLE_ARN: 'arn:r' }).kind).toBe(
      'profile',
    );
  });

  it('skips a default profile that holds only settings', () => {
    writeFileSync(join(dir, 'config'), '[default]\nregion = us-west-2\n');
    const id = resolveIdentity({
      ...base,
      AWS_WEB_IDENTITY_TOKEN_FILE: '/t',
      AWS_ROLE_ARN: 'arn:aws:iam::1:role/r',
    });
    expect(id).toMatchObject({ kind: 'web-identity', label: 'web identity (assumes arn:aws:iam::1:role/r)' });
  });

  it('keys container credentials by URI and by the token subject, not the rotating token', () => {
    const jwt = (sub: string, n: number) =>
      ['e30', Buffer.from(JSON.stringify({ sub, iat: n })).toString('base64url'), 'sig'].join('.');
    const tokenFile = join(dir, 'token');
    const env = {
      ...base,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
    };
    writeFileSync(tokenFile, jwt('system:serviceaccount:ci:runner', 1));
    const first = resolveIdentity(env);
    expect(first.kind).toBe('container');
    writeFileSync(tokenFile, jwt('system:serviceaccount:ci:runner', 2));
    expect(resolveIdentity(env).fingerprint).toBe(first.fingerprint);
    writeFileSync(tokenFile, jwt('system:serviceaccount:ci:other', 3));
    expect(resolveIdentity(env).fingerprint).not.toBe(first.fingerprint);
  });

  it('tells ECS tasks apart by their relative URI', () => {
    const a = resolveIdentity({ ...base, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/a' });
    const b = resolveIdentity({ ...base, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/b' });
    expect(a.label).toBe('container credentials (http://169.254.170.2/v2/credentials/a)');
    const task = resolveIdentity({
      ...base,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    });
    expect(task.label).toBe('container credentials (http://169.254.170.2/v2/credentials/0f1e2d3c…)');
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });

  it('falls back to the instance profile, or to nothing when IMDS is disabled', () => {
    expect(resolveIdentity(base).kind).toBe('instance-profile');
    expect(resolveIdentity({ ...base, AWS_EC2_METADATA_DISABLED: 'true' }).kind).toBe('none');
    expect(resolveIdentity({ ...base, AWS_EC2_METADATA_DISABLED: 'false' }).kind).toBe('instance-profile');
  });
});

describe('setups that must never share a cache key', () => {
  it('a credentials file named with ~/ is read (as the SDK reads it), not mistaken for no credentials', () => {
    mkdirSync(join(dir, '.aws'), { recursive: true });
    writeFileSync(
      join(dir, '.aws', 'prod-creds'),
      '[default]\naws_access_key_id = AKIDPROD\naws_secret_access_key = s\n',
    );
    const prod = resolveIdentity({ ...base, AWS_SHARED_CREDENTIALS_FILE: '~/.aws/prod-creds' });
    expect(prod.kind).toBe('profile');
    expect(prod.fingerprint).not.toBe(resolveIdentity(base).fingerprint);
  });

  it('profiles the SDK would skip still key apart when they fall through to the same source', () => {
    writeFileSync(
      join(dir, 'config'),
      '[profile prod]\nregion = us-east-1\n[profile dev]\nregion = us-east-1\n',
    );
    const noImds = { ...base, AWS_EC2_METADATA_DISABLED: 'true' };
    const prod = resolveIdentity({ ...noImds, AWS_PROFILE: 'prod' });
    const dev = resolveIdentity({ ...noImds, AWS_PROFILE: 'dev' });
    expect(prod.kind).toBe('none');
    expect(prod.fingerprint).not.toBe(dev.fingerprint);
  });

  it('AWS_EC2_METADATA_DISABLED is "false" to enable, anything else disables, as in the SDK', () => {
    expect(resolveIdentity({ ...base, AWS_EC2_METADATA_DISABLED: 'FALSE' }).kind).toBe('none');
    expect(resolveIdentity({ ...base, AWS_EC2_METADATA_DISABLED: 'false' }).kind).toBe('instance-profile');
  });
});
