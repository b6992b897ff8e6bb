/**
 * `configure` run as the built helper against throwaway config files: what it writes, what it keeps,
 * what it refuses, and that the real docker CLI (and skopeo, for --podman) read the result.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HELPER, REGISTRY, runHelper, Sandbox } from '../support/helper';
import packageJson from '../../package.json';

const DOCKER = '/usr/local/bin/docker';
const CN_REGISTRY = '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn';
const OTHER = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const STALE = Buffer.from('AWS:stale-ecr-token').toString('base64');
const GHCR = Buffer.from('user:ghp_keepme').toString('base64');

/** A config as a long-lived workstation has it: other logins, a credsStore, proxies, unknown keys. */
const LIVED_IN = {
  auths: {
    'ghcr.io': { auth: GHCR },
    'https://index.docker.io/v1/': {},
  },
  credsStore: 'desktop',
  proxies: { default: { httpProxy: 'http://proxy.example:3128', noProxy: '*.internal' } },
  psFormat: 'table {{.ID}}\t{{.Names}}',
  'x-vendor-extension': { nested: [1, 'two', { three: null }], flag: true },
};

let box: Sandbox;
let configDir: string;
let configFile: string;

beforeEach(() => {
  box = new Sandbox();
  configDir = join(box.home, '.docker');
  configFile = join(configDir, 'config.json');
});

afterEach(() => {
  box.cleanup();
});

function env(extra: NodeJS.ProcessEnv = {}) {
  return box.env({ DOCKER_CONFIG: configDir, ...extra });
}

function configure(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runHelper(['configure', ...args], { env: env(extra) });
}

function writeConfig(value: unknown, mode = 0o600, text?: string): Buffer {
  mkdirSync(configDir, { recursive: true });
  writeFileSync(configFile, text ?? JSON.stringify(value, null, '\t') + '\n', { mode });
  chmodSync(configFile, mode);
  return readFileSync(configFile);
}

function readConfig(path = configFile): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function backups(dir = configDir): string[] {
  return readdirSync(dir).filter((name) => name.includes('.bak-'));
}

function leftovers(dir = configDir): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.tmp'));
}

describe('configure: the docker config', () => {
  it('adds credHelpers and keeps every other key exactly', async () => {
    writeConfig(LIVED_IN);
    const run = await configure(['--registry', REGISTRY, '--public']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readConfig()).toEqual({
      ...LIVED_IN,
      credHelpers: { [REGISTRY]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
    });
    // Key order and tab indentation as docker writes them.
    expect(Object.keys(readConfig())).toEqual([...Object.keys(LIVED_IN), 'credHelpers']);
    expect(readFileSync(configFile, 'utf8')).toMatch(/^\{\n\t"auths"/);
    expect(run.stdout).toContain(`Updated ${configFile} ($DOCKER_CONFIG)`);
    expect(run.stdout).toContain(`+ credHelpers["${REGISTRY}"] = "ecr-login"`);
    expect(run.stdout).toContain(`Backup of the previous file: ${configFile}.bak-`);
  });

  it('keeps existing credHelpers for other registries and normalises the host it is given', async () => {
    writeConfig({ credHelpers: { 'gcr.io': 'gcloud', [OTHER]: 'ecr-login' } });
    const run = await configure(['--registry', `https://${REGISTRY.toUpperCase()}/v2/app`]);
    expect(run.status).toBe(0);
    expect(readConfig().credHelpers).toEqual({
      'gcr.io': 'gcloud',
      [OTHER]: 'ecr-login',
      [REGISTRY]: 'ecr-login',
    });
  });

  it('is idempotent: a second run says so and does not touch the file', async () => {
    writeConfig(LIVED_IN);
    expect((await configure(['--registry', REGISTRY])).status).toBe(0);
    const before = statSync(configFile);
    const bytes = readFileSync(configFile);
    const backupsBefore = backups();

    const again = await configure(['--registry', REGISTRY]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^Already configured: .*nothing changed\.\n$/);
    const after = statSync(configFile);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(readFileSync(configFile).equals(bytes)).toBe(true);
    expect(backups()).toEqual(backupsBefore);
  });

  it('--dry-run prints a unified diff with secrets masked and writes nothing', async () => {
    const original = writeConfig({ ...LIVED_IN, auths: { ...LIVED_IN.auths, [REGISTRY]: { auth: STALE } } });
    const before = statSync(configFile);
    const run = await configure(['--registry', REGISTRY, '--dry-run', '--fix']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`--- ${configFile}\n+++ ${configFile} (after configure)\n@@ -`);
    expect(run.stdout).toContain(`+\t"credHelpers": {\n+\t\t"${REGISTRY}": "ecr-login"\n`);
    expect(run.stdout).toContain(`-\t\t"${REGISTRY}": {`);
    expect(run.stdout).toContain('"auth": "<redacted>"');
    expect(run.stdout).not.toContain(STALE);
    expect(run.stdout).not.toContain(GHCR);
    expect(run.stdout).toContain(`Dry run: nothing written to ${configFile}`);
    expect(readFileSync(configFile).equals(original)).toBe(true);
    expect(statSync(configFile).mtimeMs).toBe(before.mtimeMs);
    expect(backups()).toEqual([]);
  });

  it('--dry-run masks a proxy password, and a broken file is reported without quoting it', async () => {
    // The proxies block sits right above the change, so the diff shows it as context.
    writeConfig({ proxies: { default: { httpsProxy: 'http://alice:S3cretProxyPw@proxy.corp:3128' } } });
    const run = await configure(['--registry', REGISTRY, '--dry-run']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('http://alice:<redacted>@proxy.corp:3128');
    expect(run.stdout + run.stderr).not.toContain('S3cretProxyPw');

    writeConfig({}, 0o600, '{"auths":{"x":{"auth":c3VwZXJzZWNyZXQ}}}');
    const broken = await configure(['--registry', REGISTRY]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('is not valid JSON');
    expect(broken.stdout + broken.stderr).not.toContain('c3VwZX');
  });

  it('--dry-run on a missing file diffs against /dev/null and creates nothing', async () => {
    const run = await configure(['--public', '--dry-run']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--- /dev/null\n');
    expect(run.stdout).toContain(
      '@@ -0,0 +1,5 @@\n+{\n+\t"credHelpers": {\n+\t\t"public.ecr.aws": "ecr-login"',
    );
    expect(existsSync(configDir)).toBe(false);
  });

  it('backs up the previous file byte for byte and keeps the file mode (0644 stays 0644)', async () => {
    const original = writeConfig(LIVED_IN, 0o644, JSON.stringify(LIVED_IN)); // compact, no newline
    const run = await configure(['--registry', REGISTRY]);
    expect(run.status).toBe(0);
    expect(statSync(configFile).mode & 0o777).toBe(0o644);
    const [backup] = backups();
    expect(backup).toMatch(/^config\.json\.bak-\d{8}T\d{6}Z$/);
    expect(readFileSync(join(configDir, backup)).equals(original)).toBe(true);
    // The backup may hold credentials: owner-only whatever the file's mode.
    expect(statSync(join(configDir, backup)).mode & 0o777).toBe(0o600);
    expect(run.stdout).toContain(`Backup of the previous file: ${join(configDir, backup)}`);
    // A compact file stays compact.
    expect(readFileSync(configFile, 'utf8')).not.toContain('\n');
    expect(leftovers()).toEqual([]);
  });

  it('a second change keeps the first backup and adds another', async () => {
    const first = writeConfig(LIVED_IN);
    await configure(['--registry', REGISTRY]);
    const second = readFileSync(configFile);
    await configure(['--registry', OTHER]);
    const contents = backups()
      .sort()
      .map((name) => readFileSync(join(configDir, name)));
    expect(contents).toHaveLength(2);
    expect(contents.some((c) => c.equals(first))).toBe(true);
    expect(contents.some((c) => c.equals(second))).toBe(true);
  });

  it('creates a missing file 0600 in a new 0700 directory, with no backup', async () => {
    const run = await configure(['--public']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Created ${configFile} ($DOCKER_CONFIG) (mode 0600)`);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
    expect(readConfig()).toEqual({ credHelpers: { 'public.ecr.aws': 'ecr-login' } });
    expect(backups()).toEqual([]);
  });

  it('uses ~/.docker/config.json without DOCKER_CONFIG', async () => {
    const run = await runHelper(['configure', '--public'], { env: box.env() });
    expect(run.status).toBe(0);
    expect(readConfig(join(box.home, '.docker', 'config.json')).credHelpers).toEqual({
      'public.ecr.aws': 'ecr-login',
    });
  });

  it('--config writes the file given, following a symlink like docker does', async () => {
    const real = join(box.home, 'dotfiles', 'docker.json');
    mkdirSync(dirname(real));
    writeFileSync(real, JSON.stringify(LIVED_IN));
    const link = join(box.home, 'linked.json');
    symlinkSync(real, link);
    const run = await configure(['--config', link, '--registry', REGISTRY]);
    expect(run.status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(readConfig(real).credHelpers).toEqual({ [REGISTRY]: 'ecr-login' });
    expect(backups(dirname(real))).toHaveLength(1);
  });

  it('--account and --region build the host, with .amazonaws.com.cn for China regions', async () => {
    expect((await configure(['--account', '123456789012', '--region', 'cn-north-1'])).status).toBe(0);
    expect((await configure(['--account', '123456789012', '--region', 'us-west-2'])).status).toBe(0);
    expect(readConfig().credHelpers).toEqual({ [CN_REGISTRY]: 'ecr-login', [REGISTRY]: 'ecr-login' });
  });
});

describe('configure: shadowing entries', () => {
  it('warns about a saved docker login token for the same host and leaves it without --fix', async () => {
    writeConfig({ ...LIVED_IN, auths: { ...LIVED_IN.auths, [`https://${REGISTRY}`]: { auth: STALE } } });
    const run = await configure(['--registry', REGISTRY]);
    expect(run.status).toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warning: auths\["https:\/\/123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com"\] holds/,
    );
    expect(lines[0]).toContain('--fix');
    expect(lines[0]).toContain(`docker logout ${REGISTRY}`);
    expect(lines[0]).not.toContain(STALE);
    expect((readConfig().auths as Record<string, unknown>)[`https://${REGISTRY}`]).toEqual({ auth: STALE });
  });

  it('--fix removes the token and unusable credHelpers keys, and nothing else', async () => {
    writeConfig({
      ...LIVED_IN,
      auths: { ...LIVED_IN.auths, [REGISTRY]: { auth: STALE }, [`https://${OTHER}`]: { auth: STALE } },
      credHelpers: { [`https://${REGISTRY}`]: 'ecr-login' },
    });
    const run = await configure(['--registry', REGISTRY, '--fix']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`- auths["${REGISTRY}"] (a saved login token)`);
    expect(run.stdout).toContain(`- credHelpers["https://${REGISTRY}"]`);
    const config = readConfig();
    // Another registry's token is not ours to remove.
    expect(config.auths).toEqual({ ...LIVED_IN.auths, [`https://${OTHER}`]: { auth: STALE } });
    expect(config.credHelpers).toEqual({ [REGISTRY]: 'ecr-login' });
    expect(config.credsStore).toBe('desktop');
  });

  it('an empty auths entry (what docker login leaves beside a helper) is no warning', async () => {
    writeConfig({ auths: { [REGISTRY]: {} } });
    const run = await configure(['--registry', REGISTRY]);
    expect(run.stderr).toBe('');
    expect(readConfig().auths).toEqual({ [REGISTRY]: {} });
  });

  it('--all sets credsStore, naming the helper it replaces', async () => {
    writeConfig(LIVED_IN);
    const run = await configure(['--all']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('warning: credsStore was "desktop"');
    expect(run.stderr).toContain('docker-credential-desktop');
    expect(run.stdout).toContain('~ credsStore = "ecr-login" (was "desktop")');
    expect(readConfig()).toEqual({ ...LIVED_IN, credsStore: 'ecr-login' });
  });

  it('replaces a credHelpers entry that names another helper, and says so', async () => {
    writeConfig({ credHelpers: { [REGISTRY]: 'ecr-login-go' } });
    const run = await configure(['--registry', REGISTRY]);
    expect(run.stdout).toContain(`~ credHelpers["${REGISTRY}"] = "ecr-login" (was "ecr-login-go")`);
    expect(readConfig().credHelpers).toEqual({ [REGISTRY]: 'ecr-login' });
  });
});

describe('configure: refusals leave the file as it was', () => {
  function expectRefusal(run: { status: number | null; stdout: string; stderr: string }, text: string) {
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^docker-credential-ecr-login configure: /);
    expect(lines[0]).toContain(text);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }

  it('invalid JSON: exit 1, one line, the file byte-identical', async () => {
    const original = writeConfig(undefined, 0o600, '{"auths": {"ghcr.io": {"auth": "x"}},\n');
    const run = await configure(['--registry', REGISTRY]);
    expectRefusal(run, `${configFile} is not valid JSON`);
    expect(readFileSync(configFile).equals(original)).toBe(true);
    expect(backups()).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('JSON that is not an object, or a credHelpers that is not one', async () => {
    writeConfig(undefined, 0o600, '["not", "an", "object"]');
    expectRefusal(await configure(['--public']), 'does not hold a JSON object');
    const original = writeConfig({ credHelpers: ['ecr-login'] });
    expectRefusal(await configure(['--public']), '"credHelpers" is not a JSON object');
    expect(readFileSync(configFile).equals(original)).toBe(true);
  });

  it('an unreadable config (a directory where the file should be)', async () => {
    mkdirSync(configFile, { recursive: true });
    expectRefusal(await configure(['--public']), `cannot read ${configFile}`);
  });

  it('a host that is not ECR, unknown flags, and half an account/region pair', async () => {
    writeConfig(LIVED_IN);
    const original = readFileSync(configFile);
    expectRefusal(await configure(['--registry', 'ghcr.io']), '"ghcr.io" is not an Amazon ECR registry host');
    expectRefusal(
      await configure(['--registry', `${REGISTRY}.evil.example`]),
      'is not an Amazon ECR registry host',
    );
    expectRefusal(await configure(['--registry', REGISTRY, '--colour']), 'unknown option --colour');
    expectRefusal(await configure(['--account', '123456789012']), '--account needs --region');
    expectRefusal(
      await configure(['--account', '1234', '--region', 'us-west-2']),
      '--account must be 12 digits',
    );
    expectRefusal(await configure([]), 'nothing to configure');
    expectRefusal(await configure(['--print', '--fix', '--public']), '--fix has no effect');
    expect(readFileSync(configFile).equals(original)).toBe(true);
  });

  it('an unwritable directory: the config path runs through a regular file', async () => {
    const blocker = join(box.home, 'not-a-dir');
    writeFileSync(blocker, 'just a file');
    const run = await configure(['--public', '--config', join(blocker, 'config.json')]);
    expectRefusal(run, 'not-a-dir');
    expect(readFileSync(blocker, 'utf8')).toBe('just a file');
  });

  const asRoot = process.getuid?.() === 0;
  const runuser = asRoot && spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;
  it.skipIf(asRoot && !runuser)('an unwritable directory: no write permission', async () => {
    const original = writeConfig(LIVED_IN, 0o644);
    let run: { status: number | null; stdout: string; stderr: string };
    if (asRoot) {
      // root ignores permissions: run the helper as nobody against root's 0755 directory instead.
      chmodSync(box.home, 0o755);
      chmodSync(configDir, 0o755);
      const result = spawnSync('runuser', ['-u', 'nobody', '--', HELPER, 'configure', '--public'], {
        env: env(),
        encoding: 'utf8',
      });
      run = { status: result.status, stdout: result.stdout, stderr: result.stderr };
    } else {
      chmodSync(configDir, 0o500);
      try {
        run = await configure(['--public']);
      } finally {
        chmodSync(configDir, 0o700);
      }
    }
    expectRefusal(run, `cannot write ${configFile}: permission denied`);
    expect(readFileSync(configFile).equals(original)).toBe(true);
    expect(backups()).toEqual([]);
  });
});

describe('configure --podman', () => {
  it('writes $REGISTRY_AUTH_FILE, keeping its auths', async () => {
    const authFile = join(box.home, 'ci', 'auth.json');
    mkdirSync(dirname(authFile));
    writeFileSync(authFile, JSON.stringify({ auths: { 'quay.io': { auth: GHCR } } }, null, '\t'));
    const run = await configure(['--podman', '--registry', REGISTRY], { REGISTRY_AUTH_FILE: authFile });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Updated ${authFile} ($REGISTRY_AUTH_FILE)`);
    expect(readConfig(authFile)).toEqual({
      auths: { 'quay.io': { auth: GHCR } },
      credHelpers: { [REGISTRY]: 'ecr-login' },
    });
    expect(existsSync(configFile)).toBe(false);
  });

  it('otherwise writes the persistent $XDG_CONFIG_HOME/containers/auth.json and warns about the runtime file', async () => {
    const runtimeDir = join(box.home, 'run');
    mkdirSync(join(runtimeDir, 'containers'), { recursive: true });
    writeFileSync(
      join(runtimeDir, 'containers', 'auth.json'),
      JSON.stringify({ auths: { [REGISTRY]: { auth: STALE } } }),
    );
    const configHome = join(box.home, 'xdg');
    const run = await configure(['--podman', '--registry', REGISTRY], {
      XDG_RUNTIME_DIR: runtimeDir,
      XDG_CONFIG_HOME: configHome,
    });
    expect(run.status).toBe(0);
    const authFile = join(configHome, 'containers', 'auth.json');
    expect(readConfig(authFile)).toEqual({ credHelpers: { [REGISTRY]: 'ecr-login' } });
    expect(run.stderr).toContain(`warning: ${join(runtimeDir, 'containers', 'auth.json')} (read before`);
    expect(run.stderr).toContain(`podman logout ${REGISTRY}`);
    expect(run.stderr).not.toContain(STALE);
  });

  const skopeo = spawnSync('skopeo', ['--version']).status === 0;
  it.skipIf(!skopeo)('skopeo finds the helper through the file configure wrote', async () => {
    const authFile = join(box.home, 'auth.json');
    expect(
      (await configure(['--podman', '--registry', REGISTRY], { REGISTRY_AUTH_FILE: authFile })).status,
    ).toBe(0);
    // A stand-in helper earlier on PATH answers `get`, so that no AWS is needed to see the routing.
    const stub = join(box.home, 'stub');
    mkdirSync(stub);
    writeFileSync(
      join(stub, 'docker-credential-ecr-login'),
      '#!/bin/sh\nread key\necho "{\\"ServerURL\\":\\"$key\\",\\"Username\\":\\"ROUTED\\",\\"Secret\\":\\"x\\"}"\n',
      { mode: 0o755 },
    );
    const out = execFileSync('skopeo', ['login', '--get-login', REGISTRY], {
      env: env({
        REGISTRY_AUTH_FILE: authFile,
        PATH: `${stub}:${process.env.PATH}`,
        XDG_RUNTIME_DIR: box.home,
      }),
      encoding: 'utf8',
    });
    expect(out).toBe('ROUTED\n');
  });
});

describe('configure --print and --print-gitlab', () => {
  it('--print-gitlab prints one compact line of JSON for DOCKER_AUTH_CONFIG and writes nothing', async () => {
    const run = await configure(['--print-gitlab', '--registry', REGISTRY, '--public']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual({
      credHelpers: { [REGISTRY]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
    });
    expect(existsSync(configDir)).toBe(false);
  });

  it('--print prints the snippet only; with --all it carries credsStore', async () => {
    const run = await configure(['--print', '--account', '123456789012', '--region', 'cn-north-1']);
    expect(JSON.parse(run.stdout)).toEqual({ credHelpers: { [CN_REGISTRY]: 'ecr-login' } });
    const all = await configure(['--print', '--all']);
    expect(JSON.parse(all.stdout)).toEqual({ credsStore: 'ecr-login' });
    expect(existsSync(configDir)).toBe(false);
  });
});

describe('configure: is the helper on PATH?', () => {
  it('says so, with how to install it, when PATH has no docker-credential-ecr-login', async () => {
    // node itself must stay reachable for the helper's #!/usr/bin/env node line.
    const nodeOnly = join(box.home, 'node-only');
    mkdirSync(nodeOnly);
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
    const run = await configure(['--public'], { PATH: nodeOnly });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^warning: no executable named docker-credential-ecr-login on PATH/);
    expect(run.stderr).toContain(`npm install -g ${packageJson.name},`);
    expect(readConfig().credHelpers).toEqual({ 'public.ecr.aws': 'ecr-login' });
  });

  it('is quiet when this very program is first on PATH, however it was started', async () => {
    expect((await configure(['--public', '--print'])).stderr).toBe('');
    // Found by name on PATH, as a shell starts it (argv[1] of a single executable is then the bare name).
    const byName = spawnSync('docker-credential-ecr-login', ['configure', '--public', '--print'], {
      env: env(),
      encoding: 'utf8',
    });
    expect(byName.status).toBe(0);
    expect(byName.stderr).toBe('');
  });

  it('names the other program when a different docker-credential-ecr-login comes first on PATH', async () => {
    const other = join(box.home, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'docker-credential-ecr-login'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const run = await configure(['--public', '--print'], { PATH: `${other}:${box.bin}:${process.env.PATH}` });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^note: docker will run .*\/other\/docker-credential-ecr-login, the first/);
  });
});

describe.skipIf(!existsSync(DOCKER))('the real docker CLI reads what configure wrote', () => {
  it('parses the config without complaint and routes the host to the helper', async () => {
    writeConfig(LIVED_IN);
    expect((await configure(['--registry', REGISTRY, '--public'])).status).toBe(0);
    // logout needs no engine: docker reads the config and calls the helper's erase for the host.
    const result = spawnSync(DOCKER, ['logout', REGISTRY], { env: env(), encoding: 'utf8' });
    expect(result.stderr).not.toMatch(/WARNING|Error/i);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Removing login credentials for ${REGISTRY}`);
    const log = readFileSync(join(box.cacheDir, 'log', 'ecr-login.log'), 'utf8');
    expect(log).toContain(`erased cached tokens host="${REGISTRY}"`);
    // The keys docker owns survive its own rewrite too.
    expect(readConfig()).toMatchObject({ credsStore: 'desktop', proxies: LIVED_IN.proxies });
  });

  it('and docker does complain about a file configure refused (the control)', async () => {
    writeConfig(undefined, 0o600, '{bad');
    expect((await configure(['--public'])).status).toBe(1);
    const result = spawnSync(DOCKER, ['logout', REGISTRY], { env: env(), encoding: 'utf8' });
    expect(result.stderr).toContain('Error parsing config file');
  });
});
