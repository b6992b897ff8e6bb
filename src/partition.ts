/**
 * AWS partitions as IAM and ECR hostnames see them. Pure string work.
 *
 * A registry host names its partition by DNS suffix, but GovCloud shares `amazonaws.com` with the
 * commercial partition while its ARNs say `aws-us-gov`; the region prefix tells them apart.
 */
import type { Partition } from './registry';

/** The partition segment of an ARN: the host partitions plus GovCloud. */
export type ArnPartition = Partition | 'aws-us-gov';

const BY_REGION_PREFIX: [string, ArnPartition][] = [
  ['cn-', 'aws-cn'],
  ['us-gov-', 'aws-us-gov'],
  ['us-isob-', 'aws-iso-b'],
  ['us-isof-', 'aws-iso-f'],
  ['us-iso-', 'aws-iso'],
  ['eu-isoe-', 'aws-iso-e'],
  ['eusc-', 'aws-eusc'],
];

const ECR_HOST_SUFFIX: Record<ArnPartition, string> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-eusc': 'amazonaws.eu',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
  'aws-iso-e': 'cloud.adc-e.uk',
  'aws-iso-f': 'csp.hci.ic.gov',
};

/** The ARN partition of a region; `aws` for anything without a known prefix (and for `*`). */
export function partitionOfRegion(region: string): ArnPartition {
  for (const [prefix, partition] of BY_REGION_PREFIX) if (region.startsWith(prefix)) return partition;
  return 'aws';
}

/** The ARN partition for a parsed registry: the region decides when it can, else the host suffix. */
export function arnPartition(registry: { region: string; partition: Partition }): ArnPartition {
  const byRegion = partitionOfRegion(registry.region);
  return byRegion === 'aws' ? registry.partition : byRegion;
}

/** `<account>.dkr.ecr.<region>.<suffix>`, the suffix following the region's partition. */
export function ecrHost(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.${ECR_HOST_SUFFIX[partitionOfRegion(region)]}`;
}
