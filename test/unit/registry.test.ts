import { describe, expect, it } from 'vitest';
import { hostOf, parseRegistry } from '../../src/registry';

const HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

describe('hostOf', () => {
  it.each([
    [HOST, HOST],
    [`  ${HOST}\n`, HOST],
    [`${HOST}:443`, HOST],
    [`https://${HOST}`, HOST],
    [`HTTPS://${HOST.toUpperCase()}/v2/app/manifests/1`, HOST],
    [`http://${HOST}`, HOST],
    [`${HOST}/team/app`, HOST],
    ['https://index.docker.io/v1/', 'index.docker.io'],
  ])('%j → %s', (key, host) => {
    expect(hostOf(key)).toBe(host);
  });

  it.each([
    '',
    '   ',
    `https://${HOST}@evil.example`,
    `ftp://${HOST}`,
    `${HOST}:notaport`,
    'bad host',
    'a\u0000b',
  ])('refuses %j', (key) => {
    expect(hostOf(key)).toBeUndefined();
  });
});

describe('parseRegistry', () => {
  it.each([
    [HOST, { account: '123456789012', region: 'us-west-2', partition: 'aws', fips: false, dualStack: false }],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { region: 'cn-north-1', partition: 'aws-cn', fips: false, dualStack: false },
    ],
    ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', { region: 'eusc-de-east-1', partition: 'aws-eusc' }],
    ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', { region: 'us-iso-east-1', partition: 'aws-iso' }],
    [
      '123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov',
      { region: 'us-isob-east-1', partition: 'aws-iso-b' },
    ],
    [
      '123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk',
      { region: 'eu-isoe-west-1', partition: 'aws-iso-e' },
    ],
    [
      '123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov',
      { region: 'us-isof-south-1', partition: 'aws-iso-f' },
    ],
    [
      '123456789012.dkr-ecr.us-east-1.on.aws',
      { region: 'us-east-1', partition: 'aws', dualStack: true, fips: false },
    ],
    [
      '123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn',
      { partition: 'aws-cn', dualStack: true },
    ],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', { region: 'us-gov-west-1', fips: true }],
    ['123456789012.dkr-ecr-fips.us-east-1.on.aws', { fips: true, dualStack: true }],
  ])('%s', (host, expected) => {
    expect(parseRegistry(host)).toMatchObject({ service: 'ecr', host, ...expected });
  });

  it('understands ECR Public in both spellings, served from us-east-1', () => {
    for (const host of ['public.ecr.aws', 'https://public.ecr.aws/v2/', 'ECR-PUBLIC.aws.com']) {
      expect(parseRegistry(host)).toMatchObject({ service: 'ecr-public', region: 'us-east-1' });
    }
  });

  it.each([
    'index.docker.io',
    'docker.io',
    'https://index.docker.io/v1/',
    `${HOST}.evil.com`,
    `evil.com/${HOST}`,
    `https://${HOST}@evil.com`,
    `x${HOST}`,
    '12345678901.dkr.ecr.us-west-2.amazonaws.com',
    '1234567890123.dkr.ecr.us-west-2.amazonaws.com',
    'abcdefghijkl.dkr.ecr.us-west-2.amazonaws.com',
    '123456789012.dkr.ecr.us-west-2.amazonaws.org',
    '123456789012.dkr.ecr..amazonaws.com',
    '123456789012.dkr.ecr.uswest2.amazonaws.com',
    'public.ecr.aws.evil.com',
  ])('look-alike %s is not ECR', (key) => {
    expect(parseRegistry(key)).toBeUndefined();
  });

  it('matches hosts case-insensitively and reports them lower case', () => {
    expect(parseRegistry(HOST.toUpperCase())?.host).toBe(HOST);
  });
});
