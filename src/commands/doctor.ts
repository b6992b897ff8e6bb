/**
 * `doctor [HOST...] [--offline] [--json]`: what a `get` would do for a registry and why, without
 * printing a secret: the parsed registry and endpoint, docker's routing, the credential source and
 * the identity behind it, the cache entry, and (unless --offline) a real GetAuthorizationToken,
 * with failures turned into advice. Exit 0 when a token can be had, 1 otherwise.
 */
import { existsSync, statSync } from 'node:fs';
import { inBackoff } from '../cache/backoff';
import { freshness, freshUntil } from '../cache/entry';
import { codeCacheRoot, identityFor, type Context } from '../context';
import { loadAws } from '../lazy';
import { BudgetExceededError } from '../aws/failure';
import { maskKeyId, type Identity } from '../identity';
import { tellUser, writeText } from '../protocol';
import { parseFlags } from '../flags';
import { redact } from '../redact';
import { checkSdkFiles } from '../aws/sdk-files';
import { parseRegistry, type Registry } from '../registry';
import { dockerRouting, ecrHostsInDockerConfig, helperOnPath, type DockerRouting } from '../docker/routing';
import type { ErrorSummary, Probe } from '../aws/doctor-probe';
import { pullPolicy } from './policy';
import { BINARY } from './version';

interface CacheReport {
  /** `refused`: the cache directory fails the trust rule, and the helper runs without it. */
  state: 'disabled' | 'refused' | 'empty' | 'anonymous' | 'fresh' | 'stale' | 'expired';
  file?: string;
  mode?: string;
  freshUntil?: string;
  expiresAt?: string;
  /** The last failed refresh, and until when gets serve the cached token without trying ECR. */
  backoff?: { failedAt: string; attempts: number; reason: string; servingCachedUntil?: string };
}

interface Report {
  host: string;
  ok: boolean;
  registry?: Registry;
  endpoint?: string;
  docker?: DockerRouting;
  helperOnPath?: string;
  credentials?: {
    kind: Identity['kind'];
    source: string;
    reason: string;
    mapping?: string;
    accessKeyId?: string;
  };
  identityArn?: string;
  cache?: CacheReport;
  token?: { ok: boolean; expiresAt?: string; error?: ErrorSummary };
  problems: string[];
  /** With --offline: what was not checked. */
  notChecked?: string;
  advice: string[];
}

const CACHE_STATE_TEXT: Partial<Record<CacheReport['state'], string>> = {
  disabled: 'disabled by AWS_ECR_DISABLE_CACHE',
  refused: 'off: the cache directory is not safe to use (see advice)',
};

const iso = (ms: number) => new Date(ms).toISOString();
const IMDS_ENDPOINT = 'http://169.254.169.254';

function cacheReport(ctx: Context, identity: Identity, host: string): CacheReport {
  // Not `instanceof FileCache`: the npm build loads this command from a bundle with its own copy.
  const file = ctx.cache.file;
  if (ctx.settings.cacheDisabled) return { state: 'disabled' };
  if (!file) return { state: 'refused' };
  const mode = existsSync(file) ? (statSync(file).mode & 0o777).toString(8).padStart(4, '0') : undefined;
  const entry = ctx.cache.get(identity.fingerprint, host);
  if (!entry) return { state: 'empty', file, mode };
  if (entry.anonymous)
    return {
      state: 'anonymous',
      file,
      mode,
      expiresAt: iso(freshUntil(entry)),
    };
  const failure = ctx.cache.failure(identity.fingerprint, host);
  return {
    state: freshness(entry),
    file,
    mode,
    freshUntil: iso(freshUntil(entry)),
    expiresAt: iso(entry.expiresAt),
    ...(failure && {
      backoff: {
        failedAt: iso(failure.failedAt),
        attempts: failure.attempts,
        reason: failure.reason,
        ...(inBackoff(failure) && { servingCachedUntil: iso(failure.retryAt) }),
      },
    }),
  };
}

/** We are in a container whose task role was not passed through: docker-in-docker's classic trap. */
function inContainer(env: NodeJS.ProcessEnv): boolean {
  return !!(env.ECS_CONTAINER_METADATA_URI_V4 || env.ECS_CONTAINER_METADATA_URI) || existsSync('/.dockerenv');
}

function adviseOnFailure(report: Report, identity: Identity, registry: Registry, probe: Probe): void {
  const credentialsError = probe.credentialsError;
  if (credentialsError) {
    report.problems.push(`no credentials: ${credentialsError.message}`);
    if (probe.imdsTokenRequest)
      report.problems.push(`the IMDSv2 session-token request ${probe.imdsTokenRequest}`);
    if (probe.imdsTokenRequest === 'timed out') {
      report.advice.push(
        'The IMDSv2 token request timed out. Inside a container on EC2 the response needs a second network hop: ' +
          'aws ec2 modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2 --http-endpoint enabled',
      );
    } else {
      report.advice.push(
        'Sources tried, in order: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the default profile ' +
          '(~/.aws/config, ~/.aws/credentials), AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, ' +
          'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, the EC2 instance profile. ' +
          `The one configured here is: ${identity.label}.`,
      );
    }
    return;
  }
  const tokenError = probe.tokenError;
  if (!tokenError) return;
  report.problems.push(`GetAuthorizationToken failed: ${tokenError.name}: ${tokenError.message}`);
  if (/AccessDenied/.test(tokenError.name)) {
    report.advice.push(
      `Allow ${probe.callerArn ?? 'this identity'} to pull with this least-privilege policy:\n` +
        JSON.stringify(pullPolicy(registry), null, 2),
    );
  } else if (/Timeout|Abort|BudgetExceeded/.test(tokenError.name)) {
    report.advice.push(
      `No answer from ${report.endpoint}: check the network path to it (security groups, a VPC endpoint for ` +
        'ecr.api, HTTPS_PROXY/NO_PROXY), or raise AWS_ECR_TIMEOUT.',
    );
  } else if (/UnrecognizedClient|InvalidSignature|InvalidClientTokenId|ExpiredToken/.test(tokenError.name)) {
    report.advice.push(`AWS does not accept the credentials from ${identity.label}: rotate or refresh them.`);
  }
}

async function diagnose(ctx: Context, host: string, offline: boolean): Promise<Report> {
  const report: Report = { host, ok: false, problems: [], advice: [] };
  const registry = parseRegistry(host);
  if (!registry) {
    report.problems.push(
      'not an ECR or ECR Public registry host: docker will not get credentials from this helper',
    );
    return report;
  }
  report.registry = registry;
  report.docker = dockerRouting(ctx.env, registry.host);
  const helper = helperOnPath(ctx.env, BINARY);
  report.helperOnPath = helper.found;
  if (!report.docker.routed) report.problems.push(report.docker.detail);
  if (!helper.found) {
    report.problems.push(`no executable named ${BINARY} on PATH: docker cannot run the helper`);
  } else if (!helper.isThisProgram) {
    report.problems.push(
      `docker will run ${helper.found}, the first ${BINARY} on PATH, which is not this program (${helper.self}): ` +
        "an older install or Amazon's Go helper comes first; remove it or put this one earlier on PATH",
    );
  }

  let identity: Identity;
  try {
    identity = identityFor(ctx, registry);
  } catch (err) {
    report.problems.push((err as Error).message);
    return report;
  }
  report.credentials = {
    kind: identity.kind,
    source: identity.label,
    reason: identity.reason,
    mapping: identity.mapping?.source,
  };
  if (identity.kind === 'instance-profile' && inContainer(ctx.env)) {
    report.advice.push(
      'This runs in a container but would use the EC2 instance role. On ECS with docker-in-docker, pass the ' +
        'task role through to the container that runs docker (docker run -e AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ...) ' +
        'so that the task role is used, not the instance role.',
    );
  }
  report.cache = cacheReport(ctx, identity, registry.host);
  // Pulls still work without the cache or the log, so these are advice, not problems.
  for (const refused of ctx.refused) {
    report.advice.push(`Not using ${refused.message}. Fix: ${refused.fix}`);
  }

  if (offline) {
    report.notChecked = 'credentials, identity and a GetAuthorizationToken (--offline makes no network call)';
    const usable = report.cache.state === 'fresh' || report.cache.state === 'stale';
    if (!usable)
      report.problems.push(
        `no usable token in the cache (${report.cache.state}), and --offline asked AWS for none`,
      );
    // A verdict never contradicts the findings: any problem means docker may not get a token.
    report.ok = report.problems.length === 0;
    return report;
  }
  try {
    checkSdkFiles(ctx.env);
  } catch (err) {
    report.problems.push((err as Error).message);
    return report;
  }
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new BudgetExceededError(ctx.settings.timeoutMs, 'token')),
    ctx.settings.timeoutMs,
  );
  try {
    const imdsEndpoint =
      identity.kind === 'instance-profile'
        ? ctx.env.AWS_EC2_METADATA_SERVICE_ENDPOINT || IMDS_ENDPOINT
        : undefined;
    const probe = await loadAws(codeCacheRoot(ctx)).probe(
      registry,
      {
        env: ctx.env,
        logger: ctx.logger,
        signal: controller.signal,
        connectTimeoutMs: ctx.settings.connectTimeoutMs,
        timeoutMs: ctx.settings.timeoutMs,
        mapping: identity.mapping,
      },
      imdsEndpoint,
    );
    report.endpoint = probe.endpoint;
    if (probe.accessKeyId) report.credentials.accessKeyId = maskKeyId(probe.accessKeyId);
    report.identityArn =
      probe.callerArn ?? (probe.callerError && `unknown (STS: ${probe.callerError.message})`);
    report.token = probe.tokenExpiresAt
      ? { ok: true, expiresAt: iso(probe.tokenExpiresAt) }
      : { ok: false, error: probe.tokenError ?? { name: 'NotTried', message: 'no credentials to ask with' } };
    adviseOnFailure(report, identity, registry, probe);
    report.ok = report.token.ok && report.problems.length === 0;
  } finally {
    clearTimeout(timer);
  }
  return report;
}

function describeRegistry(registry: Registry): string {
  if (registry.service === 'ecr-public') return 'ECR Public (tokens from us-east-1)';
  const extras = [registry.fips && 'FIPS', registry.dualStack && 'dual-stack'].filter(Boolean).join(', ');
  return `ECR, account ${registry.account}, region ${registry.region}, partition ${registry.partition}${extras ? `, ${extras}` : ''}`;
}

function render(report: Report): string {
  const lines = [`${BINARY} doctor: ${report.host}`];
  const row = (label: string, value: string | undefined) => {
    if (value !== undefined) lines.push(`  ${label.padEnd(12)} ${value}`);
  };
  if (report.registry) row('registry', describeRegistry(report.registry));
  row('endpoint', report.endpoint);
  if (report.docker) row('docker', report.docker.detail);
  if (report.registry) row('helper', report.helperOnPath ?? 'not found on PATH');
  if (report.credentials) {
    const c = report.credentials;
    row('credentials', `${c.source}${c.accessKeyId ? `, key ${c.accessKeyId}` : ''}`);
    row('why', c.reason);
  }
  row('identity', report.identityArn);
  if (report.cache) {
    const c = report.cache;
    const where = c.file ? ` (${c.file}${c.mode ? `, mode ${c.mode}` : ', not created yet'})` : '';
    const times = c.expiresAt ? `: refresh after ${c.freshUntil}, expires ${c.expiresAt}` : '';
    row('cache', `${CACHE_STATE_TEXT[c.state] ?? c.state}${times}${where}`);
    if (c.backoff) {
      const b = c.backoff;
      const next = b.servingCachedUntil
        ? `serving the cached token without calling ECR until ${b.servingCachedUntil}`
        : 'the next get tries again';
      row('back-off', `refresh failed ${b.attempts}x in a row, last at ${b.failedAt}; ${next}`);
      row('last error', b.reason);
    }
  }
  if (report.token) {
    row(
      'token',
      report.token.ok ? `OK, expires ${report.token.expiresAt}` : `FAILED: ${report.token.error?.name}`,
    );
  }
  row('not checked', report.notChecked);
  for (const problem of report.problems) row('problem', problem);
  for (const advice of report.advice) row('advice', advice.replace(/\n/g, '\n' + ' '.repeat(15)));
  row(
    'result',
    report.ok ? 'OK: docker will get a token for this registry' : 'NOT OK: docker pulls will be anonymous',
  );
  return lines.join('\n');
}

export const DOCTOR_USAGE = `Usage: ${BINARY} doctor [HOST...] [--offline] [--json]

Explains what a \`get\` would do for each registry HOST (default: every ECR host in the docker
config): the parsed registry and endpoint, docker's routing, the credential source and why it wins,
the identity, the cache, and a real GetAuthorizationToken. Exit 0 when docker will get a token for
every host, 1 otherwise.
  --offline   no network call: report from the configuration and the cache alone
  --json      the same facts as JSON`;

const SPEC = { json: 'boolean', offline: 'boolean', help: 'boolean' } as const;

export async function doctor(ctx: Context, args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(args, SPEC, { positional: true });
  } catch (err) {
    tellUser(`${BINARY} doctor: ${(err as Error).message} (see doctor --help)`);
    return 1;
  }
  if (flags.help) {
    writeText(DOCTOR_USAGE);
    return 0;
  }
  let hosts = flags._;
  if (hosts.length === 0) hosts = ecrHostsInDockerConfig(ctx.env);
  if (hosts.length === 0) {
    writeText(
      `${BINARY} doctor: no ECR registry in the docker config; name one: ${BINARY} doctor <account>.dkr.ecr.<region>.amazonaws.com`,
    );
    return 1;
  }
  const reports: Report[] = [];
  for (const host of hosts) reports.push(await diagnose(ctx, host, flags.offline));
  // Error messages from AWS, STS, SSO and credential processes are in there: redacted like stderr.
  const output = flags.json
    ? JSON.stringify(reports.length === 1 ? reports[0] : reports)
    : reports.map(render).join('\n\n');
  writeText(redact(output));
  return reports.every((r) => r.ok) ? 0 : 1;
}
