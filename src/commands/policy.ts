/**
 * `policy`: the least-privilege IAM policy for what this helper and docker do with ECR, narrowed to
 * the registries and repositories given, instead of the `ecr:*` people copy from blog posts.
 * Action names from the ECR user guide ("IAM permissions for pushing an image") and the ECR Public
 * guide (ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken before any push).
 */
import type { Context } from '../context';
import { parseFlags, UsageError } from '../flags';
import { tellUser, writeText } from '../protocol';
import {
  ACCOUNT_PATTERN,
  parseRegistry,
  partitionOfRegion,
  REGION_PATTERN,
  type Registry,
} from '../registry';
import { BINARY } from './version';

export const POLICY_USAGE = `Usage: ${BINARY} policy [--push] [--registry HOST]... [--account ID] [--region REGION]
       [--repository NAME]... [--public]

Prints the least-privilege IAM policy JSON for pulling (with --push, pulling and pushing).
  --registry HOST      narrow to that registry's account and region (repeatable)
  --account, --region  narrow private ECR repositories to an account and/or a region
  --repository NAME    narrow to repository names (repeatable; * wildcards allowed)
  --public             add ECR Public (public.ecr.aws): its token, and with --push its repositories
Without --registry, --account or --region the private statements cover every account and region;
with only --public they are left out.`;

const SPEC = {
  push: 'boolean',
  public: 'boolean',
  registry: 'list',
  account: 'string',
  region: 'string',
  repository: 'list',
  help: 'boolean',
} as const;

export const PULL_ACTIONS = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
];
export const PUSH_ACTIONS = [
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
];
export const PUBLIC_TOKEN_ACTIONS = ['ecr-public:GetAuthorizationToken', 'sts:GetServiceBearerToken'];
export const PUBLIC_PUSH_ACTIONS = [
  'ecr-public:BatchCheckLayerAvailability',
  'ecr-public:InitiateLayerUpload',
  'ecr-public:UploadLayerPart',
  'ecr-public:CompleteLayerUpload',
  'ecr-public:PutImage',
];

/** ECR repository names, plus `*` wildcards for IAM. */
const REPOSITORY_PATTERN = /^[a-z0-9*](?:[a-z0-9._/*-]{0,254})$/;

export interface Scope {
  partition: string;
  region: string;
  account: string;
}

export interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: string | string[];
}

function one<T>(values: T[]): T | T[] {
  return values.length === 1 ? values[0] : values;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

export interface PolicyRequest {
  push: boolean;
  /** Private registries to cover; none: every account and region of the aws partition. */
  scopes: Scope[];
  /** Leave the private statements out (ECR Public only). */
  privateStatements: boolean;
  publicStatements: boolean;
  repositories: string[];
  /** The account for ECR Public repository ARNs. */
  publicAccount: string;
}

/** The policy document for a request. Pure. */
export function buildPolicy(request: PolicyRequest): PolicyDocument {
  const repositories = request.repositories.length > 0 ? request.repositories : ['*'];
  const scopes =
    request.scopes.length > 0 ? request.scopes : [{ partition: 'aws', region: '*', account: '*' }];
  const statements: Statement[] = [];
  if (request.privateStatements) {
    const resources = [
      ...new Set(
        scopes.flatMap((s) =>
          repositories.map((r) => `arn:${s.partition}:ecr:${s.region}:${s.account}:repository/${r}`),
        ),
      ),
    ];
    statements.push(
      { Sid: 'EcrAuthorizationToken', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: request.push ? 'EcrPullPush' : 'EcrPull',
        Effect: 'Allow',
        Action: request.push ? [...PULL_ACTIONS, ...PUSH_ACTIONS] : PULL_ACTIONS,
        Resource: one(resources),
      },
    );
  }
  if (request.publicStatements) {
    statements.push({
      Sid: 'EcrPublicAuthorizationToken',
      Effect: 'Allow',
      Action: PUBLIC_TOKEN_ACTIONS,
      Resource: '*',
    });
    if (request.push) {
      statements.push({
        Sid: 'EcrPublicPush',
        Effect: 'Allow',
        Action: PUBLIC_PUSH_ACTIONS,
        Resource: one(
          repositories.map((r) => `arn:aws:ecr-public::${request.publicAccount}:repository/${r}`),
        ),
      });
    }
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** What a `get` for this registry and a pull from any of its repositories need. */
export function pullPolicy(registry: Registry): PolicyDocument {
  const isPublic = registry.service === 'ecr-public';
  return buildPolicy({
    push: false,
    scopes: isPublic
      ? []
      : [{ partition: registry.partition, region: registry.region, account: registry.account }],
    privateStatements: !isPublic,
    publicStatements: isPublic,
    repositories: [],
    publicAccount: '*',
  });
}

function run(args: string[]): number {
  const flags = parseFlags(args, SPEC);
  if (flags.help) {
    writeText(POLICY_USAGE);
    return 0;
  }
  let includePublic = flags.public;
  const scopes: Scope[] = [];
  for (const value of flags.registry) {
    const registry = parseRegistry(value);
    if (!registry) {
      throw new UsageError(
        `${JSON.stringify(value.slice(0, 200))} is not an Amazon ECR registry host ` +
          `(expected ACCOUNT.dkr.ecr.REGION.amazonaws.com or public.ecr.aws)`,
      );
    }
    if (registry.service === 'ecr-public') includePublic = true;
    else scopes.push({ partition: registry.partition, region: registry.region, account: registry.account });
  }
  if (flags.account !== undefined && !ACCOUNT_PATTERN.test(flags.account)) {
    throw new UsageError('--account must be 12 digits');
  }
  const region = flags.region?.toLowerCase();
  if (region !== undefined && !REGION_PATTERN.test(region)) {
    throw new UsageError(`--region ${JSON.stringify(flags.region)} is not a region`);
  }
  if (flags.account !== undefined || region !== undefined) {
    scopes.push({
      partition: region ? partitionOfRegion(region) : 'aws',
      region: region ?? '*',
      account: flags.account ?? '*',
    });
  }
  for (const name of flags.repository) {
    if (!REPOSITORY_PATTERN.test(name)) {
      throw new UsageError(`--repository ${JSON.stringify(name)} is not a repository name`);
    }
  }
  const partitions = [...new Set(scopes.map((s) => s.partition))];
  if (partitions.length > 1) {
    tellUser(
      `note: these ARNs span the partitions ${partitions.join(', ')}; IAM is separate in each partition, ` +
        `so attach the policy in each with only its own ARNs`,
    );
  }
  const document = buildPolicy({
    push: flags.push,
    scopes,
    privateStatements: scopes.length > 0 || !includePublic,
    publicStatements: includePublic,
    repositories: flags.repository,
    publicAccount: flags.account ?? '*',
  });
  writeText(JSON.stringify(document, null, 2));
  return 0;
}

export function policy(_ctx: Context, args: string[]): number {
  try {
    return run(args);
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    tellUser(`${BINARY} policy: ${message}${err instanceof UsageError ? ' (see policy --help)' : ''}`);
    return 1;
  }
}
