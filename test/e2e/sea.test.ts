/**
 * The single executables (dist/docker-credential-ecr-login-linux-amd64 and -linux-arm64, Node SEAs
 * built by scripts/sea.mjs) as a machine without Node would run them: an ELF file on its own, the
 * SDK inside it loaded only on a cache miss, deaf to the caller's NODE_OPTIONS. The other
 * architecture's runs under qemu-user (scripts/targets.json says which and with what sysroot), for
 * the protocol subset: version, get miss and hit, list, store, erase, NODE_OPTIONS, env -i.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEcr, startFakeEcsCredentials, type FakeEcr, type FakeEcsCredentials } from '../fakes';
import { HELPER, REGISTRY, ROOT, runProcess, Sandbox, type RunOptions } from '../support/helper';
import { CODE_CACHE_MAGIC } from '../../src/embedded';
import TARGETS from '../../scripts/targets.json';

const run = promisify(execFile);
const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const hasPython = spawnSync('python3', ['--version']).status === 0;

/**
 * Peak RSS in KiB of one helper run. Node cannot read a child's rusage; python3 can. Async, so that
 * the fake endpoints in this process can answer the helper meanwhile.
 */
async function peakRss(exe: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<number> {
  const measure = [
    'import resource, subprocess, sys',
    'subprocess.run(sys.argv[2:], input=sys.argv[1].encode(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)',
    'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)',
  ].join('\n');
  const { stdout } = await run('python3', ['-c', measure, input, exe, ...args], { env });
  return Number(stdout.trim());
}

function head(file: string, bytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    readSync(fd, buf, 0, bytes, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Each executable in dist/, and the command prefix that runs it here (qemu for a foreign one). */
const EXECUTABLES = TARGETS.map((target) => {
  const file = join(ROOT, 'dist', `docker-credential-ecr-login-${target.release}`);
  const native = process.platform === 'linux' && process.arch === target.arch;
  const prefix = native ? [] : [target.qemu, '-L', target.sysroot];
  const runnable = existsSync(file) && (native || (process.platform === 'linux' && onPath(target.qemu)));
  return { ...target, file, native, prefix, runnable };
});

it.runIf(!process.env.ECR_LOGIN_BIN && EXECUTABLES.some((e) => e.native && e.runnable))(
  "dist/docker-credential-ecr-login is this machine's executable",
  () => {
    const host = EXECUTABLES.find((e) => e.native)!;
    expect(readFileSync(HELPER).equals(readFileSync(host.file))).toBe(true);
  },
);

describe.each(EXECUTABLES.filter((e) => e.runnable))('single executable $release', (exe) => {
  const [launch, ...launchArgs] = exe.prefix;
  const runExe = (args: string[], options: RunOptions) =>
    launch
      ? runProcess(launch, [...launchArgs, exe.file, ...args], options)
      : runProcess(exe.file, args, options);

  let box: Sandbox;
  let ecr: FakeEcr;
  let ecs: FakeEcsCredentials;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    box = new Sandbox();
    ecr = await startFakeEcr();
    ecs = await startFakeEcsCredentials();
    // An ECS task: no keys, no profile; the task role comes from the container credentials endpoint.
    env = box.env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url, AWS_ENDPOINT_URL_ECR: ecr.url });
  });

  afterAll(async () => {
    await ecr?.close();
    await ecs?.close();
    box?.cleanup();
  });

  it(`is a Linux ${exe.arch} ELF executable, listed in dist/SHA256SUMS`, () => {
    const magic = head(exe.file, 20);
    expect(magic.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // \x7fELF
    expect(magic[4]).toBe(2); // ELFCLASS64
    expect(magic.readUInt16LE(18)).toBe(exe.elfMachine); // EM_X86_64 or EM_AARCH64
    const sums = readFileSync(join(ROOT, 'dist', 'SHA256SUMS'), 'utf8');
    const digest = createHash('sha256').update(readFileSync(exe.file)).digest('hex');
    expect(sums).toContain(`${digest}  docker-credential-ecr-login-${exe.release}\n`);
  });

  it('answers version', async () => {
    const result = await runExe(['version'], { env });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^docker-credential-ecr-login \(ecr-login\) \d+\.\d+\.\d+/);
  });

  it('fetches through the SDK inside it on a miss, then answers a hit with no AWS call', async () => {
    const miss = await runExe(['get'], { input: REGISTRY, env });
    expect(miss.stderr).toBe('');
    expect(miss.status).toBe(0);
    const answer = JSON.parse(miss.stdout);
    expect(answer).toMatchObject({ ServerURL: REGISTRY, Username: 'AWS' });
    expect(ecr.calls).toHaveLength(1);
    expect(ecr.calls[0]).toMatchObject({
      service: 'ecr',
      region: 'us-west-2',
      accessKeyId: ecs.credentials.AccessKeyId,
      sessionToken: ecs.credentials.Token,
    });
    expect(ecr.calls[0].passwords).toEqual([answer.Secret]);
    const ecsRequests = ecs.requests.length;
    expect(ecsRequests).toBeGreaterThan(0);

    const hit = await runExe(['get'], { input: REGISTRY, env });
    expect(hit).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(hit.stdout)).toEqual(answer);
    expect(ecr.calls).toHaveLength(1);
    expect(ecs.requests).toHaveLength(ecsRequests);
  });

  // Under qemu the peak RSS would be the emulator's.
  it.skipIf(!hasPython || !exe.native)(
    'evaluates no SDK code on a cache hit: its peak RSS is that of version',
    async () => {
      const hit = await runExe(['get'], { input: REGISTRY, env });
      expect(hit.status).toBe(0);
      const median = async (args: string[], input: string, runEnv: NodeJS.ProcessEnv) => {
        const samples = [];
        for (let i = 0; i < 3; i++) samples.push(await peakRss(exe.file, args, input, runEnv));
        return samples.sort((a, b) => a - b)[1];
      };
      const version = await median(['version'], '', env);
      const cacheHit = await median(['get'], REGISTRY, env);
      // A miss for another account against a closed port: the SDK is evaluated, then the call fails.
      const sdkLoaded = await median(['get'], '210987654321.dkr.ecr.us-west-2.amazonaws.com', {
        ...env,
        AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
        AWS_ECR_TIMEOUT: '3',
      });
      // Measured: version 44.5 MB, hit 45.4 MB, SDK loaded 58.9 MB.
      expect(
        sdkLoaded - version,
        'loading the SDK costs little more than version: is it loaded eagerly?',
      ).toBeGreaterThan(8 * 1024);
      expect(cacheHit - version, 'a cache hit costs memory like an SDK load').toBeLessThan(
        (sdkLoaded - version) / 3,
      );
    },
  );

  it.each([
    ['made from other source (its SHA-256 differs)', 0],
    ['damaged (the SHA-256 of its V8 data differs)', 64 + 4096],
  ])('answers a miss when its embedded SDK code cache is %s', async (_why, offset) => {
    // The cache asset heads with the magic, the SHA-256 of the SDK bundle it was made from and
    // that of V8's data, then V8's data (src/embedded.ts).
    const sdk = readFileSync(join(ROOT, 'dist', 'aws-sdk.cjs'), 'latin1');
    const head = Buffer.concat([CODE_CACHE_MAGIC, createHash('sha256').update(sdk).digest()]);
    const bytes = readFileSync(exe.file);
    const at = bytes.indexOf(head);
    expect(at, 'the executable carries a code cache for dist/aws-sdk.cjs').toBeGreaterThan(0);
    expect(bytes.indexOf(head, at + 1), 'exactly one').toBe(-1);
    const flip = at + CODE_CACHE_MAGIC.length + offset;
    bytes[flip] ^= 0xff;
    const dir = mkdtempSync(join(tmpdir(), 'ecr-login-sea-cache-'));
    try {
      const copy = join(dir, 'docker-credential-ecr-login');
      writeFileSync(copy, bytes, { mode: 0o755 });
      const calls = ecr.calls.length;
      const missEnv = { ...env, AWS_ECR_CACHE_DIR: join(dir, 'cache') };
      const miss = launch
        ? await runProcess(launch, [...launchArgs, copy, 'get'], { input: REGISTRY, env: missEnv })
        : await runProcess(copy, ['get'], { input: REGISTRY, env: missEnv });
      expect(miss).toMatchObject({ status: 0, stderr: '' });
      expect(JSON.parse(miss.stdout)).toMatchObject({ ServerURL: REGISTRY, Username: 'AWS' });
      expect(ecr.calls).toHaveLength(calls + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores NODE_OPTIONS, which docker passes on from the caller', async () => {
    const hostile = { ...env, NODE_OPTIONS: '--require=/nonexistent.js --max-old-space-size=1' };
    const version = await runExe(['version'], { env: hostile });
    expect(version).toMatchObject({ status: 0, stderr: '' });
    const hit = await runExe(['get'], { input: REGISTRY, env: hostile });
    expect(hit).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(hit.stdout)).toMatchObject({ ServerURL: REGISTRY, Username: 'AWS' });
  });

  it('lists the cached registry, accepts store, and erase forgets it so the next get fetches', async () => {
    const list = await runExe(['list'], { input: 'unused', env });
    expect(list).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(list.stdout)).toEqual({ [`https://${REGISTRY}`]: 'AWS' });
    const payload = JSON.stringify({ ServerURL: REGISTRY, Username: 'AWS', Secret: 'pasted-password' });
    expect(await runExe(['store'], { input: payload, env })).toMatchObject({ status: 0, stdout: '' });
    expect(await runExe(['erase'], { input: REGISTRY, env })).toMatchObject({ status: 0, stdout: '' });
    expect(JSON.parse((await runExe(['list'], { env })).stdout)).toEqual({});
    const calls = ecr.calls.length;
    expect(await runExe(['get'], { input: REGISTRY, env })).toMatchObject({ status: 0, stderr: '' });
    expect(ecr.calls).toHaveLength(calls + 1);
  });

  it('runs alone, from an empty directory, with an empty environment (env -i)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecr-login-sea-'));
    try {
      const alone = join(dir, 'docker-credential-ecr-login');
      copyFileSync(exe.file, alone);
      const { stdout, stderr } = await run('env', ['-i', ...exe.prefix, alone, 'version'], { cwd: dir });
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^docker-credential-ecr-login \(ecr-login\) /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
