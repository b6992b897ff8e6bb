/**
 * Which registry a credential-helper key names. Pure string work: no AWS, no I/O.
 *
 * Callers send many spellings of the same registry (bare host, host:port, https://host/v2/...,
 * host/repo/path, surrounding whitespace), so we first reduce the key to a hostname and only then
 * match it against the ECR host shapes, anchored at both ends so look-alikes never match.
 */

export type Partition = 'aws' | 'aws-cn' | 'aws-eusc' | 'aws-iso' | 'aws-iso-b' | 'aws-iso-e' | 'aws-iso-f';

export interface PrivateRegistry {
  service: 'ecr';
  /** Lower-case hostname without port: the cache key and the `list` key. */
  host: string;
  account: string;
  region: string;
  partition: Partition;
  fips: boolean;
  dualStack: boolean;
}

export interface PublicRegistry {
  service: 'ecr-public';
  host: string;
  /** ECR Public issues its tokens from us-east-1 only. */
  region: 'us-east-1';
  partition: 'aws';
  fips: false;
  dualStack: false;
}

export type Registry = PrivateRegistry | PublicRegistry;

const PARTITION_BY_SUFFIX: Record<string, Partition> = {
  'amazonaws.com': 'aws',
  'on.aws': 'aws',
  'amazonaws.com.cn': 'aws-cn',
  'on.amazonwebservices.com.cn': 'aws-cn',
  'amazonaws.eu': 'aws-eusc',
  'c2s.ic.gov': 'aws-iso',
  'sc2s.sgov.gov': 'aws-iso-b',
  'cloud.adc-e.uk': 'aws-iso-e',
  'csp.hci.ic.gov': 'aws-iso-f',
};

const DUAL_STACK_SUFFIXES = new Set(['on.aws', 'on.amazonwebservices.com.cn']);

const PUBLIC_HOSTS = new Set(['public.ecr.aws', 'ecr-public.aws.com']);

const suffixPattern = Object.keys(PARTITION_BY_SUFFIX)
  .map((s) => s.replace(/\./g, '\\.'))
  .join('|');

const ACCOUNT = '\\d{12}';
const REGION = '[a-z]{2,}(?:-[a-z]+)+-\\d{1,2}';
export const ACCOUNT_PATTERN = new RegExp(`^${ACCOUNT}$`);
export const REGION_PATTERN = new RegExp(`^${REGION}$`);

// account . dkr.ecr | dkr-ecr [-fips] . region . partition suffix
const PRIVATE_HOST = new RegExp(`^(${ACCOUNT})\\.dkr[.-]ecr(-fips)?\\.(${REGION})\\.(${suffixPattern})$`);

/**
 * Reduce a credential-helper key to a lower-case hostname, or undefined when the key cannot name
 * a registry host at all (userinfo, empty host, characters no hostname has).
 */
export function hostOf(key: string): string | undefined {
  let rest = key.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    if (!/^https?$/i.test(scheme[1])) return undefined;
    rest = rest.slice(scheme[0].length);
  }
  const authority = rest.split(/[/?#]/, 1)[0];
  // "https://<ecr-host>@evil.example" names evil.example; refuse userinfo rather than guess.
  if (authority.includes('@')) return undefined;
  const match = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!match) return undefined;
  const host = match[1].toLowerCase();
  return host.length > 0 && host.length <= 253 ? host : undefined;
}

export function parseRegistry(key: string): Registry | undefined {
  const host = hostOf(key);
  if (!host) return undefined;
  if (PUBLIC_HOSTS.has(host)) {
    return {
      service: 'ecr-public',
      host,
      region: 'us-east-1',
      partition: 'aws',
      fips: false,
      dualStack: false,
    };
  }
  const m = PRIVATE_HOST.exec(host);
  if (!m) return undefined;
  const [, account, fips, region, suffix] = m;
  return {
    service: 'ecr',
    host,
    account,
    region,
    partition: PARTITION_BY_SUFFIX[suffix],
    fips: fips !== undefined,
    dualStack: DUAL_STACK_SUFFIXES.has(suffix),
  };
}
