/**
 * What another local user can put in the helper's way. The victim runs the helper; the attacker is
 * a second, unprivileged uid that plants files in a cache directory it controls, as on a CI host
 * where several runner users share AWS_ECR_CACHE_DIR. Each attack must fail while the victim still
 * gets a token.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveIdentity } from '../../src/identity';
import { useFixture } from '../support/fixture';
import { HELPER, REGISTRY, ROOT, runHelper, runProcess } from '../support/helper';

const f = useFixture();
const ATTACKER = 4343;
const USER = 4242;
const HOUR = 3600_000;
const OTHER_REGISTRY = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';

const switchUser = (uid: number) => ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
const canSwitch =
  process.getuid?.() === 0 &&
  spawnSync(switchUser(ATTACKER)[0], [...switchUser(ATTACKER).slice(1), 'true']).status === 0;

/** Run a shell script as another uid; what it makes belongs to that uid. */
function as(uid: number, script: string): void {
  const [command, ...args] = switchUser(uid);
  const run = spawnSync(command, [...args, 'sh', '-c', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`as uid ${uid}: ${script}: ${run.stderr}`);
}

/** A token-cache.json holding one entry for `env`'s identity. */
function cacheFile(env: NodeJS.ProcessEnv, password: string, issuedAt: number, expiresAt: number): string {
  const entry = { host: REGISTRY, service: 'ecr', username: 'AWS', password, issuedAt, expiresAt };
  return JSON.stringify({
    format: 'ecr-login-cache/1',
    entries: { [`${resolveIdentity(env).fingerprint}/${REGISTRY}`]: entry },
  });
}

function secretOf(stdout: string): string {
  return (JSON.parse(stdout) as { Secret: string }).Secret;
}

/** Scratch space like /tmp: anyone may create in it (the sandbox home is root's and 0700). */
let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync('/tmp/ecr-login-trust-');
  chmodSync(scratch, 0o1777);
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!canSwitch)('a cache directory another user controls', () => {
  let shared: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    shared = join(scratch, 'shared');
    as(ATTACKER, `mkdir -m 777 ${shared}`);
    env = f.env({ AWS_ECR_CACHE_DIR: shared });
  });

  it('never serves a token planted for our identity, and erase still succeeds', async () => {
    const now = Date.now();
    as(
      ATTACKER,
      `cat > ${shared}/token-cache.json <<'EOF'\n${cacheFile(env, 'planted', now, now + 12 * HOUR)}\nEOF`,
    );
    const before = readFileSync(join(shared, 'token-cache.json'));
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
    expect(run.stderr).toContain(`ecr-login: not using the cache in ${shared}: owned by uid ${ATTACKER}`);
    // Adopting the directory would make what the attacker planted in it ours: never suggested.
    expect(run.stderr).toContain('fix: use a directory of your own');
    expect(run.stderr).not.toContain('sudo chown');
    const erase = await runHelper(['erase'], { input: REGISTRY, env });
    expect(erase.status).toBe(0);
    expect(readFileSync(join(shared, 'token-cache.json')).equals(before)).toBe(true);
  });

  it('never writes through a planted log symlink', async () => {
    const victimFile = join(scratch, 'victim.txt');
    writeFileSync(victimFile, 'precious\n', { mode: 0o644 });
    as(ATTACKER, `mkdir -m 777 ${shared}/log && ln -s ${victimFile} ${shared}/log/ecr-login.log`);
    const run = await runHelper(['get'], { input: REGISTRY, env: { ...env, AWS_ECR_LOG_LEVEL: 'debug' } });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
    expect(readFileSync(victimFile, 'utf8')).toBe('precious\n');
    expect(statSync(victimFile).mode & 0o777).toBe(0o644);
  });

  // The npm bin keeps V8's compiled SDK bundle in <cache dir>/code-cache, and V8 runs what it finds
  // there: a planted file would be code run as the victim.
  const node = process.execPath;
  // The package also carries a code cache for the Node that built it, which a first miss would use
  // and then write none: these tests run a copy of the npm bin without it.
  let npmBin: string;
  beforeEach(() => {
    const copy = join(scratch, 'npm-bin');
    mkdirSync(copy, { mode: 0o755 });
    for (const name of ['docker-credential-ecr-login.cjs', 'aws-sdk.cjs', 'operator.cjs']) {
      copyFileSync(join(ROOT, 'dist', name), join(copy, name));
    }
    npmBin = join(copy, 'docker-credential-ecr-login.cjs');
  });

  it('uses the code cache the package carries on the Node that built it, and so writes none', async () => {
    const own = f.env({ AWS_ECR_CACHE_DIR: join(scratch, 'own') });
    const packaged = join(ROOT, 'dist', 'docker-credential-ecr-login.cjs');
    expect((await runProcess(node, [packaged, 'get'], { input: REGISTRY, env: own })).status).toBe(0);
    expect(readdirSync(join(scratch, 'own', 'code-cache'))).toEqual([]);
  });
  it('never uses a code cache directory another user made', async () => {
    as(ATTACKER, `mkdir -m 777 ${shared}/code-cache`);
    const run = await runProcess(node, [npmBin, 'get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
    // The helper would have written one had it used the directory (the control below shows it does).
    expect(readdirSync(join(shared, 'code-cache'))).toEqual([]);
  });

  it('control: a cache directory of our own gets a code cache (0700, 0600) that the next miss uses', async () => {
    const own = f.env({ AWS_ECR_CACHE_DIR: join(scratch, 'own') });
    expect((await runProcess(node, [npmBin, 'get'], { input: REGISTRY, env: own })).status).toBe(0);
    const dir = join(scratch, 'own', 'code-cache');
    const file = join(dir, 'aws-sdk.cjs.cache');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['aws-sdk.cjs.cache']);
    // A miss for another registry loads the SDK again: with the cache accepted, it writes none.
    const before = statSync(file);
    const other = await runProcess(node, [npmBin, 'get'], { input: OTHER_REGISTRY, env: own });
    expect(other.status).toBe(0);
    expect(statSync(file)).toMatchObject({ ino: before.ino, mtimeMs: before.mtimeMs });
  });

  it('refuses a damaged code cache (V8 would run it), answers, and writes a good one', async () => {
    const own = f.env({ AWS_ECR_CACHE_DIR: join(scratch, 'own') });
    expect((await runProcess(node, [npmBin, 'get'], { input: REGISTRY, env: own })).status).toBe(0);
    const file = join(scratch, 'own', 'code-cache', 'aws-sdk.cjs.cache');
    const good = readFileSync(file);
    const damaged = Buffer.from(good);
    damaged[Math.floor(damaged.length / 2)] ^= 0xff;
    writeFileSync(file, damaged);
    const run = await runProcess(node, [npmBin, 'get'], {
      input: OTHER_REGISTRY,
      env: own,
      timeoutMs: 15_000,
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ServerURL: OTHER_REGISTRY, Username: 'AWS' });
    expect(readFileSync(file).equals(damaged)).toBe(false);
  });

  it('keeps no code cache when AWS_ECR_DISABLE_CACHE is set', async () => {
    const off = f.env({ AWS_ECR_CACHE_DIR: join(scratch, 'off'), AWS_ECR_DISABLE_CACHE: 'true' });
    expect((await runProcess(node, [npmBin, 'get'], { input: REGISTRY, env: off })).status).toBe(0);
    expect(existsSync(join(scratch, 'off', 'code-cache'))).toBe(false);
  });

  it('control: a code cache that does not fit is refused, and the miss still answers', async () => {
    const own = f.env({ AWS_ECR_CACHE_DIR: join(scratch, 'own') });
    mkdirSync(join(scratch, 'own', 'code-cache'), { recursive: true, mode: 0o700 });
    const file = join(scratch, 'own', 'code-cache', 'aws-sdk.cjs.cache');
    writeFileSync(file, 'ecr-login code cache v1\0' + 'x'.repeat(5000), { mode: 0o600 });
    const run = await runProcess(node, [npmBin, 'get'], { input: REGISTRY, env: own });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
    expect(statSync(file).size).toBeGreaterThan(100_000);
  });

  it('doctor names the refused directory, its owner and mode, and the fix', async () => {
    const run = await runHelper(['doctor', REGISTRY, '--offline', '--json'], { env });
    const report = JSON.parse(run.stdout) as { cache: { state: string }; advice: string[] };
    expect(report.cache.state).toBe('refused');
    expect(report.advice.join('\n')).toContain(
      `Not using ${shared}: owned by uid ${ATTACKER} (mode 0777), not by this user (uid 0). Fix: use a directory of your own`,
    );
  });

  it('neither follows nor is stopped by a mapping file planted there', async () => {
    as(ATTACKER, `echo '{"registries":{"123456789012":{"profile":"attacker"}}}' > ${shared}/config.json`);
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(f.ecr.calls[0]).toMatchObject({ accessKeyId: env.AWS_ACCESS_KEY_ID, verified: true });
  });
});

describe.skipIf(!canSwitch)('a path to the cache directory another user can redirect', () => {
  it('refuses a symlink of theirs, even one that points at a directory of ours', async () => {
    const ours = join(scratch, 'ours');
    mkdirSync(ours, { mode: 0o700 });
    const link = join(scratch, 'link');
    as(ATTACKER, `ln -s ${ours} ${link}`);
    const run = await runHelper(['get'], { input: REGISTRY, env: f.env({ AWS_ECR_CACHE_DIR: link }) });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
    expect(run.stderr).toContain(
      `not using the cache in ${link}: is a symbolic link owned by uid ${ATTACKER}`,
    );
    expect(readdirSync(ours)).toEqual([]);
  });

  it('refuses a directory below one they can change (they could swap it between check and use)', async () => {
    const theirs = join(scratch, 'theirs');
    as(ATTACKER, `mkdir -m 777 ${theirs}`);
    const cacheDir = join(theirs, 'ecr');
    mkdirSync(cacheDir, { mode: 0o700 });
    const run = await runHelper(['get'], { input: REGISTRY, env: f.env({ AWS_ECR_CACHE_DIR: cacheDir }) });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(
      `a directory above it, can be changed by another user (uid ${ATTACKER}, mode 0777)`,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('uses a directory of ours through a symlink of ours, by its real path', async () => {
    const ours = join(scratch, 'real-cache');
    mkdirSync(ours, { mode: 0o700 });
    const link = join(scratch, 'my-link');
    symlinkSync(ours, link);
    const env = f.env({ AWS_ECR_CACHE_DIR: link });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.stderr).toBe('');
    expect(existsSync(join(ours, 'token-cache.json'))).toBe(true);
  });
});

describe('a cache directory of our own', () => {
  it('ignores an entry no ECR answer could have produced (a 100-year expiry)', async () => {
    const env = f.env();
    mkdirSync(f.box.cacheDir, { mode: 0o700 });
    const now = Date.now();
    writeFileSync(
      join(f.box.cacheDir, 'token-cache.json'),
      cacheFile(env, 'forever', now, now + 100 * 8766 * HOUR),
    );
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
  });

  it('ignores an oversized cache file, valid entries and all, and rebuilds it', async () => {
    const env = f.env();
    mkdirSync(f.box.cacheDir, { mode: 0o700 });
    const file = join(f.box.cacheDir, 'token-cache.json');
    const now = Date.now();
    const valid = JSON.parse(cacheFile(env, 'from-a-huge-file', now, now + 12 * HOUR)) as object;
    writeFileSync(file, JSON.stringify({ ...valid, padding: 'x'.repeat(2 * 1024 * 1024) }));
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
    expect(statSync(file).size).toBeLessThan(10_000);
    const hit = await runHelper(['get'], { input: REGISTRY, env });
    expect(hit.stdout).toBe(run.stdout);
    expect(f.ecr.calls).toHaveLength(1);
  });

  it('ignores an anonymous outcome recorded for a private registry', async () => {
    const env = f.env();
    mkdirSync(f.box.cacheDir, { mode: 0o700 });
    const now = Date.now();
    const entry = {
      host: REGISTRY,
      service: 'ecr',
      username: '',
      password: '',
      issuedAt: now,
      expiresAt: now + 12 * HOUR,
      anonymous: true,
    };
    const file = {
      format: 'ecr-login-cache/1',
      entries: { [`${resolveIdentity(env).fingerprint}/${REGISTRY}`]: entry },
    };
    writeFileSync(join(f.box.cacheDir, 'token-cache.json'), JSON.stringify(file));
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
  });

  it('does not append to a log file with another hard link (a file of ours linked elsewhere)', async () => {
    const victimFile = join(f.box.home, 'victim.txt');
    writeFileSync(victimFile, 'precious\n', { mode: 0o600 });
    mkdirSync(join(f.box.cacheDir, 'log'), { recursive: true, mode: 0o700 });
    linkSync(victimFile, join(f.box.cacheDir, 'log', 'ecr-login.log'));
    const run = await runHelper(['get'], { input: REGISTRY, env: f.env({ AWS_ECR_LOG_LEVEL: 'debug' }) });
    expect(run.status).toBe(0);
    expect(readFileSync(victimFile, 'utf8')).toBe('precious\n');
  });

  it('reads an AWS_ECR_CONFIG that is a symlink (a Kubernetes ConfigMap mount)', async () => {
    const data = join(f.box.home, '..data');
    mkdirSync(data);
    writeFileSync(
      join(data, 'config.json'),
      JSON.stringify({ registries: { '123456789012': { profile: 'central' } } }),
    );
    symlinkSync(join(data, 'config.json'), join(f.box.home, 'config.json'));
    mkdirSync(join(f.box.home, '.aws'));
    writeFileSync(
      join(f.box.home, '.aws', 'credentials'),
      '[central]\naws_access_key_id = AKIDCENTRAL000000001\naws_secret_access_key = c\n',
    );
    f.ecr.credentials.set('AKIDCENTRAL000000001', 'c');
    const run = await runHelper(['get'], {
      input: REGISTRY,
      env: f.env({ AWS_ECR_CONFIG: join(f.box.home, 'config.json') }),
    });
    expect(run.stderr).toBe('');
    expect(f.ecr.calls[0]).toMatchObject({ accessKeyId: 'AKIDCENTRAL000000001', verified: true });
  });

  it('does not follow a symlink at the log path', async () => {
    const victimFile = join(scratch, 'victim.txt');
    writeFileSync(victimFile, 'precious\n', { mode: 0o644 });
    mkdirSync(join(f.box.cacheDir, 'log'), { recursive: true, mode: 0o700 });
    const env = f.env({ AWS_ECR_LOG_LEVEL: 'debug' });
    const log = join(f.box.cacheDir, 'log', 'ecr-login.log');
    // Control: the log is written when it is a plain path.
    await runHelper(['get'], { input: REGISTRY, env });
    expect(readFileSync(log, 'utf8')).toContain('fetched token');
    rmSync(log);
    spawnSync('ln', ['-s', victimFile, log]);
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(readFileSync(victimFile, 'utf8')).toBe('precious\n');
  });
});

describe.skipIf(!canSwitch)('a ~/.ecr that root made (one `sudo -E docker pull`)', () => {
  it('still gives the user a token, and says how to fix the directory', async () => {
    const home = join(scratch, 'home');
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, USER, USER);
    mkdirSync(join(home, '.ecr'), { mode: 0o700 });
    writeFileSync(join(home, '.ecr', 'config.json'), '{"registries":{}}');
    const env = {
      ...f.env(),
      HOME: home,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    };
    const [command, ...args] = switchUser(USER);
    const run = await runProcess(command, [...args, HELPER, 'get'], { input: REGISTRY, env });
    expect(run.status).toBe(0);
    expect(secretOf(run.stdout)).toBe(f.ecr.calls[0].passwords[0]);
    expect(run.stderr).toContain(`not using the cache in ${join(home, '.ecr')}: owned by uid 0`);
  });
});
