/**
 * scripts/install.sh against a throwaway root (its --root, like DESTDIR): the executable lands under
 * the prefix, and each user's docker config gains credHelpers without losing anything else.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from './support/helper';

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

let root: string;
let binary: string;

function install(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnSync('sh', [SCRIPT, '--root', root, '--binary', binary, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const configPath = (home: string) => join(root, home, '.docker', 'config.json');
const readConfig = (home: string) => JSON.parse(readFileSync(configPath(home), 'utf8'));

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
  binary = join(root, 'build', 'docker-credential-ecr-login');
  mkdirSync(join(root, 'build'));
  writeFileSync(binary, '#!/bin/sh\necho docker-credential-ecr-login test\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('install.sh', () => {
  it('installs the executable under --prefix, mode 0755', () => {
    const run = install(['--prefix', '/opt/ecr/bin', '--user', 'root']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const target = join(root, 'opt', 'ecr', 'bin', 'docker-credential-ecr-login');
    expect(readFileSync(target, 'utf8')).toBe(readFileSync(binary, 'utf8'));
    expect(statSync(target).mode & 0o777).toBe(0o755);
  });

  it('defaults to /usr/local/bin and writes new configs for root and runner, with public.ecr.aws', () => {
    const run = install(['--user', 'root', '--user', 'runner', '--registry', ECR]);
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

  it('takes repeated --registry, --no-public, and --no-binary', () => {
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

  describe.each(TOOLS)('merging with %s', (tool) => {
    const env = { ECR_LOGIN_JSON_TOOL: tool };

    it('keeps auths, credsStore, proxies, other credHelpers and unknown keys, in order', () => {
      writeConfig('home/runner', JSON.stringify(EXISTING, null, 2));
      const run = install(['--user', 'runner', '--registry', ECR], env);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const merged = readConfig('home/runner');
      expect(merged).toEqual({
        ...EXISTING,
        credHelpers: { 'gcr.io': 'gcloud', [ECR]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
      });
      expect(Object.keys(merged)).toEqual(Object.keys(EXISTING));
      expect(statSync(configPath('home/runner')).mode & 0o777).toBe(0o600);
    });

    it('routes a registry another helper had to ecr-login', () => {
      writeConfig('root', JSON.stringify({ credHelpers: { [ECR]: 'desktop' } }));
      expect(install(['--user', 'root', '--registry', ECR, '--no-public'], env).status).toBe(0);
      expect(readConfig('root')).toEqual({ credHelpers: { [ECR]: 'ecr-login' } });
    });

    it('is idempotent: a second run changes nothing, not even the formatting', () => {
      // Compact JSON that already has the entries: rewriting it would be a needless change.
      const already = JSON.stringify({
        ...EXISTING,
        credHelpers: { [ECR]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
      });
      writeConfig('home/runner', already);
      const first = install(['--user', 'runner', '--registry', ECR], env);
      expect(first.status).toBe(0);
      expect(readFileSync(configPath('home/runner'), 'utf8')).toBe(already);

      writeConfig('root', JSON.stringify(EXISTING));
      expect(install(['--user', 'root', '--registry', ECR], env).status).toBe(0);
      const once = readFileSync(configPath('root'), 'utf8');
      const mtime = statSync(configPath('root')).mtimeMs;
      const again = install(['--user', 'root', '--user', 'runner', '--registry', ECR], env);
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('docker-credential-ecr-login is up to date');
      expect(again.stdout).toContain(`${configPath('root')} already routes these registries to ecr-login`);
      expect(readFileSync(configPath('root'), 'utf8')).toBe(once);
      expect(statSync(configPath('root')).mtimeMs).toBe(mtime);
    });

    it('--dry-run prints the change as a diff and writes nothing', () => {
      const before = JSON.stringify(EXISTING, null, '\t') + '\n';
      writeConfig('home/runner', before);
      const run = install(['--dry-run', '--user', 'root', '--user', 'runner', '--registry', ECR], env);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('would install');
      expect(run.stdout).toContain(`would write ${configPath('root')} (root)`);
      expect(run.stdout).toContain(`would write ${configPath('home/runner')} (runner)`);
      expect(run.stdout).toContain(`+\t\t"${ECR}": "ecr-login",`);
      expect(run.stdout).toContain('-\t\t"gcr.io": "gcloud"\n+\t\t"gcr.io": "gcloud",');
      expect(readFileSync(configPath('home/runner'), 'utf8')).toBe(before);
      expect(existsSync(configPath('root'))).toBe(false);
      expect(existsSync(join(root, 'usr'))).toBe(false);
    });

    it('leaves a config that is not a JSON object alone and fails', () => {
      writeConfig('root', '{"auths": ');
      writeConfig('home/runner', '[1, 2]');
      const run = install(['--user', 'root', '--user', 'runner', '--registry', ECR], env);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('is not a JSON object; left alone');
      expect(readFileSync(configPath('root'), 'utf8')).toBe('{"auths": ');
      expect(readFileSync(configPath('home/runner'), 'utf8')).toBe('[1, 2]');
    });
  });

  describe('with neither jq nor python3', () => {
    /** A PATH holding only what install.sh needs besides a JSON tool. */
    function barePath(): string {
      const bin = join(root, 'bare-bin');
      mkdirSync(bin);
      for (const tool of [
        'sh',
        'awk',
        'grep',
        'cmp',
        'cp',
        'mv',
        'chmod',
        'chown',
        'mkdir',
        'cut',
        'id',
        'diff',
        'sed',
        'dirname',
        'readlink',
        'cat',
      ]) {
        const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
        if (found) symlinkSync(found, join(bin, tool));
      }
      return bin;
    }

    it('still writes a new config', () => {
      const run = install(['--user', 'runner', '--registry', ECR], { PATH: barePath() });
      expect(run.status).toBe(0);
      expect(readConfig('home/runner')).toEqual({
        credHelpers: { [ECR]: 'ecr-login', 'public.ecr.aws': 'ecr-login' },
      });
    });

    it('refuses to merge into an existing one, saying what to install', () => {
      writeConfig('home/runner', JSON.stringify(EXISTING));
      const run = install(['--user', 'runner', '--registry', ECR], { PATH: barePath() });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('needs jq or python3');
      expect(readConfig('home/runner')).toEqual(EXISTING);
    });
  });

  it('rejects what is not a registry host, an unknown user, and unknown flags', () => {
    for (const bad of [`https://${ECR}`, `${ECR}/repo`, 'a"b', 'two words', '*']) {
      const run = install(['--user', 'root', '--registry', bad]);
      expect(run.status, bad).toBe(1);
      expect(run.stderr).toContain('not a registry host name');
    }
    expect(install(['--user', 'nobody-here']).stderr).toContain('user nobody-here not found');
    expect(install(['--bogus']).status).toBe(1);
    expect(existsSync(join(root, 'root', '.docker'))).toBe(false);
  });

  it('writes through a symlinked config to its target', () => {
    writeConfig('root', JSON.stringify({ auths: {} }));
    mkdirSync(join(root, 'home/runner/.docker'));
    symlinkSync(configPath('root'), configPath('home/runner'));
    chmodSync(configPath('root'), 0o644);
    expect(install(['--user', 'runner', '--registry', ECR, '--no-public']).status).toBe(0);
    expect(readConfig('root')).toEqual({ auths: {}, credHelpers: { [ECR]: 'ecr-login' } });
    expect(statSync(configPath('root')).mode & 0o777).toBe(0o644);
  });
});
