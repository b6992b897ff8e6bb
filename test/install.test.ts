/**
 * scripts/install.sh against a throwaway root (its --root, like DESTDIR), with the real single
 * executable: it lands under the prefix, and each user's docker config gains credHelpers through the
 * helper's own `configure` (the ECR-host rule, a backup, nothing else touched); --uninstall takes
 * out the executable and only the ecr-login entries.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HELPER, ROOT } from './support/helper';

const SCRIPT = join(ROOT, 'scripts', 'install.sh');
const ECR = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const ECR2 = '210987654321.dkr.ecr.eu-central-1.amazonaws.com';
const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'runner:x:1001:1001:GitHub Actions runner:/home/runner:/bin/bash',
  '',
].join('\n');

/** What `docker login ghcr.io` and friends leave behind: none of it may be lost. */
const EXISTING = {
  auths: { 'ghcr.io': { auth: 'dXNlcjpwYXNz' }, 'https://index.docker.io/v1/': {} },
  credsStore: 'desktop',
  credHelpers: { 'gcr.io': 'gcloud' },
  proxies: { default: { httpProxy: 'http://proxy.internal:3128', noProxy: '169.254.169.254' } },
  psFormat: 'table {{.ID}}\t{{.Names}}',
};

const available = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const TOOLS = ['jq', 'python3'].filter(available);
/** install.sh installs the single executable; where the build made none, there is nothing to test. */
const isExecutable =
  existsSync(HELPER) && readFileSync(HELPER).subarray(0, 4).toString('latin1') === '\x7fELF';

let root: string;

/** install.sh with the built executable; the helper's own directory on PATH for --no-binary. */
function install(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnSync('sh', [SCRIPT, '--root', root, '--binary', HELPER, ...args], {
    encoding: 'utf8',
    env: { PATH: `${dirname(HELPER)}:${process.env.PATH}`, HOME: root, ...env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const configPath = (home: string) => join(root, home, '.docker', 'config.json');
const readConfig = (home: string) => JSON.parse(readFileSync(configPath(home), 'utf8'));
const backups = (home: string) =>
  readdirSync(join(root, home, '.docker')).filter((name) => name.startsWith('config.json.bak-'));

function writeConfig(home: string, content: string) {
  mkdirSync(join(root, home, '.docker'), { recursive: true });
  writeFileSync(configPath(home), content, { mode: 0o600 });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ecr-login-install-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'passwd'), PASSWD);
  mkdirSync(join(root, 'root'));
  mkdirSync(join(root, 'home', 'runner'), { recursive: true });
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!isExecutable)('install.sh', () => {
  it('installs the executable under --prefix, mode 0755', () => {
    const run = install(['--prefix', '/opt/ecr/bin', '--user', 'root']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const target = join(root, 'opt', 'ecr', 'bin', 'docker-credential-ecr-login');
    expect(readFileSync(target).equals(readFileSync(HELPER))).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o755);
  });

  it('defaults to /usr/local/bin and writes new configs for root and runner, with public.ecr.aws', () => {
    const run = install(['--user', 'root', '--user', 'runner', '--registry', ECR]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(existsSync(join(root, 'usr', 'local', 'bin', 'docker-credential-ecr-login'))).toBe(true);
    for (const home of ['root', 'home/runner']) {
      expect(readConfig(home)).toEqual({
        credHelpers: { [ECR]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
      });
      expect(statSync(configPath(home)).mode & 0o777).toBe(0o600);
      expect(statSync(join(root, home, '.docker')).mode & 0o777).toBe(0o700);
    }
    // Tab-indented, as the docker CLI itself writes the file.
    expect(readFileSync(configPath('root'), 'utf8')).toBe(
      `{\n\t"credHelpers": {\n\t\t"${ECR}": "ecr-login",\n\t\t"public.ecr.aws": "ecr-login"\n\t}\n}\n`,
    );
    if (process.getuid?.() === 0) {
      // Written by root for runner: the file must still be runner's.
      expect(statSync(configPath('home/runner')).uid).toBe(1001);
      expect(statSync(join(root, 'home/runner/.docker')).gid).toBe(1001);
    }
  });

  it('takes repeated --registry, --no-public, and --no-binary (running the helper on PATH)', () => {
    const run = install([
      '--no-binary',
      '--no-public',
      '--user',
      'runner',
      '--registry',
      ECR,
      '--registry',
      ECR2,
    ]);
    expect(run.status).toBe(0);
    expect(existsSync(join(root, 'usr'))).toBe(false);
    expect(readConfig('home/runner')).toEqual({ credHelpers: { [ECR]: 'ecr-login', [ECR2]: 'ecr-login' } });
  });

  it('keeps auths, credsStore, proxies, other credHelpers and unknown keys, in order, after a backup', () => {
    const before = JSON.stringify(EXISTING, null, 2);
    writeConfig('home/runner', before);
    const run = install(['--no-binary', '--user', 'runner', '--registry', ECR]);
    expect(run.status).toBe(0);
    const merged = readConfig('home/runner');
    expect(merged).toEqual({
      ...EXISTING,
      credHelpers: { 'gcr.io': 'gcloud', [ECR]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
    });
    expect(Object.keys(merged)).toEqual(Object.keys(EXISTING));
    expect(statSync(configPath('home/runner')).mode & 0o777).toBe(0o600);
    const [backup] = backups('home/runner');
    expect(readFileSync(join(root, 'home/runner/.docker', backup), 'utf8')).toBe(before);
  });

  it('routes a registry another helper had to ecr-login', () => {
    writeConfig('root', JSON.stringify({ credHelpers: { [ECR]: 'desktop' } }));
    expect(install(['--no-binary', '--user', 'root', '--registry', ECR, '--no-public']).status).toBe(0);
    expect(readConfig('root')).toEqual({ credHelpers: { [ECR]: 'ecr-login' } });
  });

  it('is idempotent: a second run changes nothing, not even the formatting', () => {
    const already = JSON.stringify({
      ...EXISTING,
      credHelpers: { [ECR]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
    });
    writeConfig('home/runner', already);
    expect(install(['--user', 'runner', '--registry', ECR]).status).toBe(0);
    expect(readFileSync(configPath('home/runner'), 'utf8')).toBe(already);
    expect(backups('home/runner')).toEqual([]);

    const again = install(['--user', 'runner', '--registry', ECR]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('docker-credential-ecr-login is up to date');
    expect(again.stdout).toContain(`Already configured: ${configPath('home/runner')}`);
    expect(readFileSync(configPath('home/runner'), 'utf8')).toBe(already);
  });

  it('--dry-run prints the change as a diff and writes nothing', () => {
    const before = JSON.stringify(EXISTING, null, '\t') + '\n';
    writeConfig('home/runner', before);
    const run = install(['--dry-run', '--user', 'root', '--user', 'runner', '--registry', ECR]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('would install');
    expect(run.stdout).toContain(`+\t\t"${ECR}": "ecr-login",`);
    expect(run.stdout).toContain(`Dry run: nothing written to ${configPath('home/runner')}`);
    expect(readFileSync(configPath('home/runner'), 'utf8')).toBe(before);
    expect(existsSync(configPath('root'))).toBe(false);
    expect(existsSync(join(root, 'usr'))).toBe(false);
  });

  it('leaves a config that is not a JSON object alone and fails', () => {
    writeConfig('root', '{"auths": ');
    writeConfig('home/runner', '[1, 2]');
    const run = install(['--no-binary', '--user', 'root', '--user', 'runner', '--registry', ECR]);
    expect(run.status).toBe(1);
    expect(readFileSync(configPath('root'), 'utf8')).toBe('{"auths": ');
    expect(readFileSync(configPath('home/runner'), 'utf8')).toBe('[1, 2]');
  });

  it('refuses hosts that are not ECR, as configure does, before changing anything', () => {
    for (const bad of ['docker.io', 'ghcr.io', `${ECR}.evil.example`, 'a"b']) {
      const run = install(['--user', 'root', '--registry', bad]);
      expect(run.status, bad).toBe(1);
      expect(run.stderr).toContain('is not an Amazon ECR registry host');
      expect(run.stdout).toBe('');
    }
    expect(existsSync(join(root, 'usr'))).toBe(false);
    expect(existsSync(join(root, 'root', '.docker'))).toBe(false);
  });

  it('refuses to install the npm bin, a node script that needs the bundles beside it', () => {
    const run = install([
      '--user',
      'root',
      '--binary',
      join(ROOT, 'dist', 'docker-credential-ecr-login.cjs'),
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('is not a single executable');
    expect(existsSync(join(root, 'usr'))).toBe(false);
  });

  it('rejects an unknown user and unknown flags', () => {
    expect(install(['--user', 'nobody-here']).stderr).toContain('user nobody-here not found');
    expect(install(['--bogus']).status).toBe(1);
    expect(existsSync(join(root, 'root', '.docker'))).toBe(false);
  });

  it('writes through a symlinked config to its target', () => {
    writeConfig('root', JSON.stringify({ auths: {} }));
    mkdirSync(join(root, 'home/runner/.docker'));
    symlinkSync(configPath('root'), configPath('home/runner'));
    chmodSync(configPath('root'), 0o644);
    expect(install(['--no-binary', '--user', 'runner', '--registry', ECR, '--no-public']).status).toBe(0);
    expect(readConfig('root')).toEqual({ auths: {}, credHelpers: { [ECR]: 'ecr-login' } });
    expect(statSync(configPath('root')).mode & 0o777).toBe(0o644);
  });

  describe.each(TOOLS)('--uninstall with %s', (tool) => {
    const env = { ECR_LOGIN_JSON_TOOL: tool };

    it('removes the executable and only the ecr-login entries, after a backup', () => {
      expect(install(['--user', 'root', '--user', 'runner', '--registry', ECR]).status).toBe(0);
      const lived = {
        ...EXISTING,
        credHelpers: { 'gcr.io': 'gcloud', [ECR]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
      };
      writeConfig('home/runner', JSON.stringify(lived, null, '\t'));
      const run = install(['--uninstall', '--user', 'root', '--user', 'runner'], env);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(existsSync(join(root, 'usr', 'local', 'bin', 'docker-credential-ecr-login'))).toBe(false);
      expect(readConfig('home/runner')).toEqual(EXISTING);
      expect(readConfig('root')).toEqual({});
      const [backup] = backups('home/runner');
      expect(JSON.parse(readFileSync(join(root, 'home/runner/.docker', backup), 'utf8'))).toEqual(lived);
      expect(statSync(join(root, 'home/runner/.docker', backup)).mode & 0o777).toBe(0o600);

      const again = install(['--uninstall', '--user', 'runner'], env);
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('routes nothing to ecr-login');
      expect(backups('home/runner')).toHaveLength(1);
    });

    it('leaves a config that is not a JSON object alone and fails', () => {
      writeConfig('root', '{"credHelpers": ');
      const run = install(['--uninstall', '--user', 'root'], env);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('is not a JSON object; left alone');
      expect(readFileSync(configPath('root'), 'utf8')).toBe('{"credHelpers": ');
    });

    it('--dry-run shows the removal and changes nothing', () => {
      const lived = JSON.stringify({ credHelpers: { [ECR]: 'ecr-login', 'gcr.io': 'gcloud' } });
      writeConfig('root', lived);
      const run = install(['--uninstall', '--dry-run', '--user', 'root'], env);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('would remove the ecr-login credHelpers entries');
      expect(readFileSync(configPath('root'), 'utf8')).toBe(lived);
      expect(backups('root')).toEqual([]);
    });
  });
});
