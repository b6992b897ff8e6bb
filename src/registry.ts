/**
 * Which registry a credential-helper key names. Pure string work: no AWS, no I/O.
 *
 * Callers send many spellings of the same registry (bare host, host:port, https://host/v2/...,
 * host/repo/path, surrounding whitespace), so we first reduce the key to a hostname and only then
 * match it against the ECR host shapes, anchored at both ends so look-alikes never match.
 */

/** The partition segment of an ARN. */
export type Partition =
  'aws' | 'aws-us-gov' | 'aws-cn' | 'aws-eusc' | 'aws-iso' | 'aws-iso-b' | 'aws-iso-e' | 'aws-iso-f';

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

/**
 * The one partition table: how a region names its partition, and the DNS suffixes of the
 * partition's ECR hosts (IPv4, then dual-stack). GovCloud shares `amazonaws.com` with the
 * commercial partition while its ARNs say `aws-us-gov`: the region prefix tells them apart.
 */
const PARTITIONS: readonly { name: Partition; regionPrefix?: string; suffixes: string[] }[] = [
  { name: 'aws', suffixes: ['amazonaws.com', 'on.aws'] },
  { name: 'aws-us-gov', regionPrefix: 'us-gov-', suffixes: ['amazonaws.com', 'on.aws'] },
  { name: 'aws-cn', regionPrefix: 'cn-', suffixes: ['amazonaws.com.cn', 'on.amazonwebservices.com.cn'] },
  { name: 'aws-eusc', regionPrefix: 'eusc-', suffixes: ['amazonaws.eu'] },
  { name: 'aws-iso', regionPrefix: 'us-iso-', suffixes: ['c2s.ic.gov'] },
  { name: 'aws-iso-b', regionPrefix: 'us-isob-', suffixes: ['sc2s.sgov.gov'] },
  { name: 'aws-iso-e', regionPrefix: 'eu-isoe-', suffixes: ['cloud.adc-e.uk'] },
  { name: 'aws-iso-f', regionPrefix: 'us-isof-', suffixes: ['csp.hci.ic.gov'] },
];

const DUAL_STACK_SUFFIXES = new Set(['on.aws', 'on.amazonwebservices.com.cn']);

/** The partition of a region; `aws` for anything without a known prefix (and for `*`). */
export function partitionOfRegion(region: string): Partition {
  return PARTITIONS.find((p) => p.regionPrefix && region.startsWith(p.regionPrefix))?.name ?? 'aws';
}

/** A host's partition: the region's, when the host's suffix belongs to it; else the suffix's own. */
function partitionOfHost(region: string, suffix: string): Partition {
  const byRegion = PARTITIONS.find((p) => p.name === partitionOfRegion(region))!;
  if (byRegion.suffixes.includes(suffix)) return byRegion.name;
  return PARTITIONS.find((p) => p.suffixes.includes(suffix))!.name;
}

/** `<account>.dkr.ecr.<region>.<suffix>`, the suffix following the region's partition. */
export function ecrHost(account: string, region: string): string {
  const partition = PARTITIONS.find((p) => p.name === partitionOfRegion(region))!;
  return `${account}.dkr.ecr.${region}.${partition.suffixes[0]}`;
}

const PUBLIC_HOSTS = new Set(['public.ecr.aws', 'ecr-public.aws.com']);

const suffixPattern = [...new Set(PARTITIONS.flatMap((p) => p.suffixes))]
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
    partition: partitionOfHost(region, suffix),
    fips: fips !== undefined,
    dualStack: DUAL_STACK_SUFFIXES.has(suffix),
  };
}
