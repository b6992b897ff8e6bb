import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveIdentity } from '../../src/identity';
import { mappingFor } from '../../src/mapping';
import { parseRegistry, type Registry } from '../../src/registry';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mapping-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const registry = parseRegistry('111122223333.dkr.ecr.us-east-1.amazonaws.com') as Registry;
const ROLE = 'arn:aws:iam::111122223333:role/push';

describe('mappingFor', () => {
  it('reads the environment first, then the file by host, then by account', () => {
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        registries: { '111122223333': { profile: 'by-account' }, [registry.host]: { profile: 'by-host' } },
      }),
    );
    expect(mappingFor(registry, {}, dir)?.profile).toBe('by-host');
    expect(mappingFor(registry, { AWS_ECR_PROFILE_111122223333: 'from-env' }, dir)).toEqual({
      profile: 'from-env',
      roleArn: undefined,
      source: 'AWS_ECR_PROFILE_111122223333',
    });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ registries: { '111122223333': { roleArn: ROLE } } }),
    );
    expect(mappingFor(registry, {}, dir)?.roleArn).toBe(ROLE);
  });

  it('is undefined without a mapping, and for ECR Public with only account keys', () => {
    expect(mappingFor(registry, {}, dir)).toBeUndefined();
    expect(
      mappingFor(parseRegistry('public.ecr.aws') as Registry, { AWS_ECR_PROFILE_111122223333: 'x' }, dir),
    ).toBeUndefined();
  });

  it.each([
    ['invalid JSON', '{'],
    ['a non-object entry', JSON.stringify({ registries: { '111122223333': 'prod' } })],
    ['an empty entry', JSON.stringify({ registries: { '111122223333': {} } })],
    [
      'a bad role ARN',
      JSON.stringify({ registries: { '111122223333': { roleArn: 'arn:aws:iam::1:user/x' } } }),
    ],
  ])('rejects %s with a message naming the file', (_name, text) => {
    writeFileSync(join(dir, 'config.json'), text);
    expect(() => mappingFor(registry, {}, dir)).toThrow(join(dir, 'config.json'));
  });
});

describe('resolveIdentity with a mapping', () => {
  const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000001', AWS_SECRET_ACCESS_KEY: 's', HOME: '/nonexistent' };
  it('makes an assumed role a distinct identity per role', () => {
    const base = resolveIdentity(env);
    const a = resolveIdentity(env, { roleArn: ROLE, source: 't' });
    const b = resolveIdentity(env, { roleArn: 'arn:aws:iam::111122223333:role/other', source: 't' });
    expect(new Set([base.fingerprint, a.fingerprint, b.fingerprint]).size).toBe(3);
    expect(a.label).toContain(`assuming ${ROLE}`);
  });
});
