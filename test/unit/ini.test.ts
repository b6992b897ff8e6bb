/**
 * Our reading of the shared config files against the SDK's own (@smithy/core's parseKnownFiles,
 * what the credential chain uses): the identity fingerprint is only as good as this agreement.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKnownFiles } from '@smithy/core/config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSharedConfig } from '../../src/ini';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ini-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function both(config: string, credentials: string, paths?: { config: string; credentials: string }) {
  writeFileSync(join(dir, 'config'), config);
  writeFileSync(join(dir, 'credentials'), credentials);
  const env = {
    HOME: dir,
    AWS_CONFIG_FILE: paths?.config ?? join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: paths?.credentials ?? join(dir, 'credentials'),
  };
  const savedHome = process.env.HOME;
  process.env.HOME = dir;
  try {
    const sdk = await parseKnownFiles({
      configFilepath: env.AWS_CONFIG_FILE,
      filepath: env.AWS_SHARED_CREDENTIALS_FILE,
      ignoreCache: true,
    });
    const profilesOnly = Object.fromEntries(
      Object.entries(sdk).filter(([name]) => !/^(sso-session|services)\./.test(name)),
    );
    return { ours: Object.fromEntries(loadSharedConfig(env).profiles), sdk: profilesOnly };
  } finally {
    process.env.HOME = savedHome;
  }
}

describe('loadSharedConfig agrees with the SDK', () => {
  it.each([
    [
      'plain profiles',
      '[default]\nregion = us-east-1\n[profile ci]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n',
      '[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n',
    ],
    [
      'quoted profile names',
      '[profile "prod"]\nregion = eu-west-1\n',
      `["dev"]\naws_access_key_id = AKIDDEV\n`,
    ],
    [
      'indented keys after a value',
      '[profile a]\nregion = us-east-1\n  aws_access_key_id = AKIDA\n',
      '[b]\nx = 1\n    aws_secret_access_key = s\n',
    ],
    ['sub-sections', '[profile a]\ns3 =\n  max_concurrent_requests = 10\nregion = us-west-2\n', ''],
    [
      'comments',
      '[profile a] # trailing\nregion = us-east-1 ; trailing\n#whole = line\n;also = line\nkey=va#lue\n',
      '',
    ],
    [
      'extra spaces and unknown prefixes',
      '[profile  spaced]\nregion = a\n[weird x]\nregion = b\n[profile ok]\nRegion = c\n',
      '',
    ],
    [
      'credentials win over config',
      '[profile p]\naws_access_key_id = FROMCONFIG\nregion = r\n',
      '[p]\naws_access_key_id = FROMCREDS\n',
    ],
    [
      '[default] and [profile default]',
      '[profile default]\nregion = b\n[default]\nregion = a\noutput = json\n',
      '',
    ],
  ])('%s', async (_name, config, credentials) => {
    const { ours, sdk } = await both(config, credentials);
    expect(ours).toEqual(sdk);
  });

  it('expands a leading ~/ in AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE', async () => {
    const { ours, sdk } = await both('[profile t]\nregion = x\n', '[t]\naws_access_key_id = AKIDTILDE\n', {
      config: '~/config',
      credentials: '~/credentials',
    });
    expect(ours).toEqual(sdk);
    expect(ours.t).toMatchObject({ region: 'x', aws_access_key_id: 'AKIDTILDE' });
  });
});
