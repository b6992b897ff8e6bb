/**
 * `configure`: route ECR registries to this helper in the docker config (or a containers auth
 * file for podman, skopeo and buildah), or print the JSON for GitLab's DOCKER_AUTH_CONFIG.
 * Operator output: the summary on stdout, warnings and errors on stderr, exit 1 on any error with
 * the existing file untouched.
 */
import type { Context } from '../context';
import {
  ConfigError,
  deepEqual,
  dockerTarget,
  explicitTarget,
  HELPER_NAME,
  isObject,
  loadConfig,
  maskSecrets,
  planEdit,
  podmanTarget,
  serialize,
  shadowingEntries,
  writeConfig,
  type Target,
} from '../docker/config';
import { helperOnPath } from '../docker/routing';
import { parseFlags, UsageError, type Flags } from '../flags';
import { unifiedDiff } from '../docker/line-diff';
import { tellUser, writeText } from '../protocol';
import { ACCOUNT_PATTERN, ecrHost, parseRegistry, REGION_PATTERN } from '../registry';
import { BINARY } from './version';

export const CONFIGURE_USAGE = `Usage: ${BINARY} configure [--registry HOST]... [--public] [--account ID --region REGION]
       [--all] [--podman] [--config PATH] [--fix] [--dry-run] [--print | --print-gitlab]

Adds credHelpers entries ("${HELPER_NAME}") for the registries given to the docker config
($DOCKER_CONFIG/config.json or ~/.docker/config.json), or with --podman to the containers auth file
($REGISTRY_AUTH_FILE, else \${XDG_CONFIG_HOME:-~/.config}/containers/auth.json).

  --registry HOST     an ECR or ECR Public registry host (repeatable)
  --public            public.ecr.aws
  --account ID        with --region: the private registry ID.dkr.ecr.REGION.amazonaws.com[.cn]
  --all               also set credsStore to "${HELPER_NAME}" (every registry goes to this helper)
  --podman            write the containers auth file instead of the docker config
  --config PATH       write this file instead
  --fix               remove saved login tokens and unusable credHelpers keys for these hosts
  --dry-run           print the diff, write nothing
  --print             print the JSON snippet only
  --print-gitlab      print one line of JSON for GitLab's DOCKER_AUTH_CONFIG variable`;

const SPEC = {
  registry: 'list',
  public: 'boolean',
  account: 'string',
  region: 'string',
  all: 'boolean',
  podman: 'boolean',
  config: 'string',
  fix: 'boolean',
  'dry-run': 'boolean',
  print: 'boolean',
  'print-gitlab': 'boolean',
  help: 'boolean',
} as const;

function notEcr(value: string): UsageError {
  return new UsageError(
    `${JSON.stringify(value.slice(0, 200))} is not an Amazon ECR registry host ` +
      `(expected ACCOUNT.dkr.ecr.REGION.amazonaws.com or public.ecr.aws)`,
  );
}

/** The registry hosts the flags name, validated and de-duplicated, in the order given. */
function hostsFrom(flags: Flags<typeof SPEC>): string[] {
  const hosts: string[] = [];
  for (const value of flags.registry) {
    const registry = parseRegistry(value);
    if (!registry) throw notEcr(value);
    hosts.push(registry.host);
  }
  if (flags.public) hosts.push('public.ecr.aws');
  if (flags.account !== undefined || flags.region !== undefined) {
    if (flags.account === undefined) throw new UsageError('--region needs --account');
    if (flags.region === undefined) throw new UsageError('--account needs --region');
    if (!ACCOUNT_PATTERN.test(flags.account)) throw new UsageError(`--account must be 12 digits`);
    const region = flags.region.toLowerCase();
    if (!REGION_PATTERN.test(region))
      throw new UsageError(`--region ${JSON.stringify(flags.region)} is not a region`);
    const host = ecrHost(flags.account, region);
    if (!parseRegistry(host)) throw notEcr(host);
    hosts.push(host);
  }
  return [...new Set(hosts)];
}

// ---------------------------------------------------------------------------------------------
// Is the helper where docker will look for it?

function checkPath(env: NodeJS.ProcessEnv): void {
  const helper = helperOnPath(env);
  if (!helper.found) {
    tellUser(
      `warning: no executable named ${BINARY} on PATH, so docker cannot run the helper ` +
        `("executable file not found in $PATH"). Install it: npm install -g @ecr-login/${BINARY}, or ` +
        `copy the release file for this machine (${BINARY}-linux-amd64 or -linux-arm64) into a ` +
        `directory on PATH such as /usr/local/bin, named ${BINARY}`,
    );
  } else if (!helper.isThisProgram) {
    tellUser(
      `note: docker will run ${helper.found}, the first ${BINARY} on PATH, which is not this program (${helper.self})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

function snippet(hosts: string[], all: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (all) out.credsStore = HELPER_NAME;
  if (hosts.length > 0) out.credHelpers = Object.fromEntries(hosts.map((h) => [h, HELPER_NAME]));
  return out;
}

function describeTarget(target: Target): string {
  return target.source === 'default' ? target.path : `${target.path} (${target.source})`;
}

function modeText(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

function warnAboutReadFirst(target: Target, hosts: string[]): void {
  if (!target.readFirst || target.readFirst === target.path) return;
  let data: Record<string, unknown>;
  try {
    const loaded = loadConfig(target.readFirst);
    if (!loaded.exists) return;
    data = loaded.data;
  } catch {
    return;
  }
  for (const { key, host } of shadowingEntries(data, hosts)) {
    tellUser(
      `warning: ${target.readFirst} (read before ${target.path} by podman, skopeo and buildah) has a saved ` +
        `login token in auths[${JSON.stringify(key)}]; it wins over the helper until removed: podman logout ${host}`,
    );
  }
}

function warnAboutEnvironment(env: NodeJS.ProcessEnv, hosts: string[]): void {
  if (!env.DOCKER_AUTH_CONFIG) return;
  let data: unknown;
  try {
    data = JSON.parse(env.DOCKER_AUTH_CONFIG);
  } catch {
    return;
  }
  if (!isObject(data)) return;
  for (const { key } of shadowingEntries({ auths: data.auths }, hosts)) {
    tellUser(
      `warning: DOCKER_AUTH_CONFIG in this environment has credentials in auths[${JSON.stringify(key)}]; ` +
        `docker CLI releases that read that variable (docker/cli#6008) use them before any helper`,
    );
  }
}

function run(ctx: Context, args: string[]): number {
  const flags = parseFlags(args, SPEC);
  if (flags.help) {
    writeText(CONFIGURE_USAGE);
    return 0;
  }
  const printing = flags.print || flags['print-gitlab'];
  if (flags.print && flags['print-gitlab']) throw new UsageError('choose one of --print and --print-gitlab');
  if (printing) {
    for (const name of ['fix', 'dry-run', 'podman'] as const) {
      if (flags[name])
        throw new UsageError(`--${name} has no effect with --print/--print-gitlab, which write nothing`);
    }
    if (flags.config !== undefined) {
      throw new UsageError('--config has no effect with --print/--print-gitlab, which write nothing');
    }
  }
  const hosts = hostsFrom(flags);
  if (hosts.length === 0 && !flags.all) {
    throw new UsageError(
      'nothing to configure: give --registry HOST, --public, --account ID --region R, or --all',
    );
  }

  checkPath(ctx.env);

  if (printing) {
    const value = snippet(hosts, flags.all);
    writeText(flags.print ? JSON.stringify(value, null, 2) : JSON.stringify(value));
    return 0;
  }

  const kind = flags.podman ? 'podman' : 'docker';
  const target =
    flags.config !== undefined
      ? explicitTarget(flags.config, kind, ctx.env)
      : flags.podman
        ? podmanTarget(ctx.env)
        : dockerTarget(ctx.env);

  const loaded = loadConfig(target.path);
  const plan = planEdit(loaded.data, { hosts, all: flags.all, fix: flags.fix, kind });
  for (const warning of plan.warnings) tellUser(`warning: ${warning}`);
  if (kind === 'podman') warnAboutReadFirst(target, hosts);
  if (kind === 'docker') warnAboutEnvironment(ctx.env, hosts);

  const where = describeTarget(target);
  if (loaded.exists && deepEqual(plan.next, loaded.data)) {
    writeText(
      `Already configured: ${where} routes ${hosts.join(', ') || 'every registry'} to ${BINARY}; nothing changed.`,
    );
    return 0;
  }

  const text = serialize(plan.next, loaded.style);
  const changeLines = plan.changes.map((c) => `  ${c.op} ${c.text}`);

  if (flags['dry-run']) {
    const before = loaded.exists ? serialize(loaded.data, loaded.style) : '';
    const diff = unifiedDiff(
      maskSecrets(before),
      maskSecrets(text),
      loaded.exists ? target.path : '/dev/null',
      `${target.path} (after configure)`,
    );
    const reformatted = loaded.exists && loaded.raw?.toString('utf8') !== before;
    writeText(
      [
        diff.trimEnd(),
        ...(reformatted ? ['(the file would also be re-indented as shown; its values are kept)'] : []),
        `Dry run: nothing written to ${where}.`,
      ].join('\n'),
    );
    return 0;
  }

  const result = writeConfig(loaded, text);
  ctx.logger.info('configure wrote the config', {
    path: result.path,
    hosts: hosts.join(','),
    backup: result.backup,
    changes: plan.changes.length,
  });
  writeText(
    [
      result.created ? `Created ${where} (mode ${modeText(result.mode)})` : `Updated ${where}`,
      ...changeLines,
      ...(result.backup ? [`Backup of the previous file: ${result.backup}`] : []),
    ].join('\n'),
  );
  return 0;
}

export function configure(ctx: Context, args: string[]): number {
  try {
    return run(ctx, args);
  } catch (err) {
    if (err instanceof UsageError) {
      tellUser(`${BINARY} configure: ${err.message} (see configure --help)`);
    } else if (err instanceof ConfigError) {
      tellUser(`${BINARY} configure: ${err.message}`);
    } else {
      ctx.logger.error('configure failed', { error: (err as Error)?.stack });
      tellUser(`${BINARY} configure: ${(err as Error)?.message ?? String(err)}`);
    }
    return 1;
  }
}
