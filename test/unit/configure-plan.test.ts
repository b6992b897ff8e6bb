import { describe, expect, it } from 'vitest';
import { hasCredentials, maskSecrets, planEdit, podmanTarget, serialize } from '../../src/docker/config';
import { parseFlags, UsageError } from '../../src/flags';
import { unifiedDiff } from '../../src/docker/line-diff';
import { ecrHost, parseRegistry, partitionOfRegion, type PrivateRegistry } from '../../src/registry';

const HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y')).toBe('');
  });

  it('shows removals before additions with three lines of context', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n') + '\n';
    const after = ['1', '2', '3', '4', 'five', '6', '7', '8'].join('\n') + '\n';
    expect(unifiedDiff(before, after, 'a', 'b')).toBe(
      ['--- a', '+++ b', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    );
  });

  it('splits distant changes into separate hunks', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const changed = [...lines];
    changed[1] = 'x';
    changed[18] = 'y';
    const diff = unifiedDiff(lines.join('\n'), changed.join('\n'), 'a', 'b');
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain('@@ -1,5 +1,5 @@');
    expect(diff).toContain('@@ -16,5 +16,5 @@');
  });

  it('diffs a new file against nothing', () => {
    expect(unifiedDiff('', 'a\nb\n', '/dev/null', 'new')).toBe(
      '--- /dev/null\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n',
    );
  });
});

describe('planEdit', () => {
  it('does not modify its input and reports no change when configured', () => {
    const data = { credHelpers: { [HOST]: 'ecr-login' }, auths: { [HOST]: {} } };
    const copy = structuredClone(data);
    const plan = planEdit(data, { hosts: [HOST], all: false, fix: true, kind: 'docker' });
    expect(plan.changes).toEqual([]);
    expect(plan.next).toEqual(copy);
    expect(data).toEqual(copy);
  });

  it('--all alone adds no empty credHelpers', () => {
    const plan = planEdit({}, { hosts: [], all: true, fix: false, kind: 'docker' });
    expect(plan.next).toEqual({ credsStore: 'ecr-login' });
  });

  it('a credHelpers key with a port is a different registry, not a useless spelling', () => {
    const plan = planEdit(
      { credHelpers: { [`${HOST}:443`]: 'ecr-login' } },
      { hosts: [HOST], all: false, fix: true, kind: 'docker' },
    );
    expect(plan.next.credHelpers).toEqual({ [`${HOST}:443`]: 'ecr-login', [HOST]: 'ecr-login' });
  });

  it('treats only entries carrying a secret as saved logins', () => {
    expect(hasCredentials({ auth: 'eA==' })).toBe(true);
    expect(hasCredentials({ identitytoken: 't' })).toBe(true);
    expect(hasCredentials({})).toBe(false);
    expect(hasCredentials({ auth: '', email: 'a@b' })).toBe(false);
  });
});

describe('serialize and maskSecrets', () => {
  it('keeps the indentation style and masks every secret field', () => {
    const text = serialize(
      { auths: { h: { auth: 'c2VjcmV0', IdentityToken: 'tok' } } },
      { indent: '  ', trailingNewline: false },
    );
    expect(text).toBe(
      '{\n  "auths": {\n    "h": {\n      "auth": "c2VjcmV0",\n      "IdentityToken": "tok"\n    }\n  }\n}',
    );
    expect(maskSecrets(text)).not.toMatch(/c2VjcmV0|tok"/);
  });
});

describe('podmanTarget', () => {
  it('prefers REGISTRY_AUTH_FILE, else the persistent XDG config file, checking the runtime file first', () => {
    expect(podmanTarget({ REGISTRY_AUTH_FILE: '/ci/auth.json', HOME: '/h' }).path).toBe('/ci/auth.json');
    expect(podmanTarget({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toMatchObject({
      path: '/h/.config/containers/auth.json',
      readFirst: '/run/user/1000/containers/auth.json',
    });
    expect(podmanTarget({ HOME: '/h' }, 1000).readFirst).toBe('/run/containers/1000/auth.json');
  });
});

describe('partitions', () => {
  it('maps regions to ARN partitions, GovCloud included', () => {
    expect(partitionOfRegion('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOfRegion('cn-northwest-1')).toBe('aws-cn');
    expect(partitionOfRegion('us-isob-east-1')).toBe('aws-iso-b');
    expect(partitionOfRegion('us-iso-east-1')).toBe('aws-iso');
    expect(partitionOfRegion('eu-west-1')).toBe('aws');
    const gov = parseRegistry('123456789012.dkr.ecr.us-gov-west-1.amazonaws.com') as PrivateRegistry;
    expect(gov.partition).toBe('aws-us-gov');
    const govDualStack = parseRegistry('123456789012.dkr-ecr.us-gov-west-1.on.aws') as PrivateRegistry;
    expect(govDualStack.partition).toBe('aws-us-gov');
    const commercial = parseRegistry('123456789012.dkr.ecr.us-west-2.amazonaws.com') as PrivateRegistry;
    expect(commercial.partition).toBe('aws');
  });

  it('builds hosts that parseRegistry accepts for every partition', () => {
    for (const region of [
      'us-west-2',
      'cn-north-1',
      'us-gov-east-1',
      'us-iso-east-1',
      'eu-isoe-west-1',
      'eusc-de-east-1',
    ]) {
      const registry = parseRegistry(ecrHost('123456789012', region));
      expect(registry, region).toMatchObject({ service: 'ecr', region });
    }
    expect(ecrHost('123456789012', 'cn-north-1')).toBe('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn');
  });
});

describe('parseFlags', () => {
  const spec = { registry: 'list', fix: 'boolean', config: 'string' } as const;
  it('takes --name value and --name=value, lists repeatable', () => {
    expect(parseFlags(['--registry', 'a', '--registry=b', '--fix', '--config=/x'], spec)).toEqual({
      registry: ['a', 'b'],
      fix: true,
      config: '/x',
      _: [],
    });
    expect(parseFlags(['h1', '--fix', 'h2'], spec, { positional: true })).toMatchObject({
      _: ['h1', 'h2'],
      fix: true,
    });
  });
  it('refuses unknown options, missing values and stray arguments', () => {
    expect(() => parseFlags(['--nope'], spec)).toThrow(UsageError);
    expect(() => parseFlags(['--config'], spec)).toThrow('--config needs a value');
    expect(() => parseFlags(['--config', '--fix'], spec)).toThrow('--config needs a value');
    expect(() => parseFlags(['host'], spec)).toThrow('unexpected argument');
    expect(() => parseFlags(['--fix=yes'], spec)).toThrow('takes no value');
    expect(() => parseFlags(['--toString'], spec)).toThrow('unknown option');
  });
});
