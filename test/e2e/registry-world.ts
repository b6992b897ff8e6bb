/**
 * A real registry under an ECR host name: the distribution registry (2.8) over TLS from a test CA,
 * with htpasswd auth for user AWS whose password is the token the fake ECR issues; a real dockerd;
 * all inside a private namespace where the ECR name resolves to a test address. The fake ECR stays
 * in the test process and verifies the helper's SigV4 signature with KEYS.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import { makeTestCa, startFakeEcr, type FakeEcr } from '../fakes';
import { KEYS, REGISTRY, Sandbox } from '../support/helper';
import { startNamespace } from './namespace';
import { writeStandInImage, type StandInImage } from './stand-in-image';
import { anyDockerCli, DOCKER, missingTools } from './tools';
import type { Run } from './world';

/**
 * TEST-NET-1, on the namespace's loopback. Not 127.0.0.0/8: dockerd treats that range as an
 * insecure registry and would speak plain HTTP without checking TLS.
 */
export const REGISTRY_ADDRESS = '192.0.2.10';

/** The docker CLI the tests drive: the pinned one, or the one that came with dockerd. */
export const DOCKER_CLI = anyDockerCli() ?? DOCKER;

/** Tools the real-registry tests need and lack; `unshare`, `nsenter` and `ip` build the namespace. */
export function missingRegistryTools(): string[] {
  return missingTools([
    DOCKER_CLI,
    'dockerd',
    'docker-registry',
    'skopeo',
    'podman',
    'unshare',
    'nsenter',
    'ip',
  ]);
}

/** The image the registry holds before any test runs. */
export const STAND_IN = `${REGISTRY}/stand-in:1`;

export interface RegistryWorld {
  sandbox: Sandbox;
  ecr: FakeEcr;
  /** What the fake ECR issues as the password, as long as a real one (~1.7 KB). */
  token: string;
  image: StandInImage;
  /** The registry's storage, to see what a push really stored. */
  registryData: string;
  /** The helper's environment inside the namespace: KEYS signing for the fake ECR. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Runs a tool inside the namespace. */
  run(command: string, args: string[], options?: { env?: NodeJS.ProcessEnv; input?: string }): Promise<Run>;
  /** Logs of the registry and dockerd, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

export async function startRegistryWorld(): Promise<RegistryWorld> {
  const sandbox = new Sandbox();
  const dir = (name: string) => {
    const path = join(sandbox.home, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  // A real ECR password is ~1.7 KB of base64; bcrypt reads only its first 72 bytes.
  const token = randomBytes(1290).toString('base64');
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
    sandbox.cleanup();
  };

  try {
    const ecr = await startFakeEcr({
      credentials: { [KEYS.AWS_ACCESS_KEY_ID]: KEYS.AWS_SECRET_ACCESS_KEY },
      password: token,
    });
    closers.push(() => ecr.close());

    const ca = await makeTestCa(dir('ca'), [REGISTRY]);
    const caFiles = Object.fromEntries(
      ['/etc/docker', '/etc/containers'].map((etc) => [`${etc}/certs.d/${REGISTRY}/ca.crt`, ca.caCert]),
    );
    const ns = await startNamespace({
      dir: dir('ns'),
      hosts: { [REGISTRY]: REGISTRY_ADDRESS },
      files: caFiles,
      forward: [ecr.port],
    });
    closers.push(() => ns.close());
    const ecrInside = `http://127.0.0.1:${ns.ports.get(ecr.port)}`;

    const logsDir = dir('logs');
    const registryData = dir('registry/data');
    const registryLog = join(logsDir, 'registry.log');
    const registryConfig = join(sandbox.home, 'registry', 'config.yml');
    // Cost 4, the minimum: the registry checks the password on every request of a pull.
    writeFileSync(join(sandbox.home, 'registry', 'htpasswd'), `AWS:${bcrypt.hashSync(token, 4)}\n`);
    writeFileSync(
      registryConfig,
      [
        'version: 0.1',
        'log: {level: info}',
        `storage: {filesystem: {rootdirectory: ${registryData}}}`,
        'http:',
        `  addr: ${REGISTRY_ADDRESS}:443`,
        `  tls: {certificate: ${ca.certPath}, key: ${ca.keyPath}}`,
        `auth: {htpasswd: {realm: ecr-login-test, path: ${join(sandbox.home, 'registry', 'htpasswd')}}}`,
        '',
      ].join('\n'),
    );
    const baseEnv = { PATH: process.env.PATH };
    const registry = ns.start('docker-registry', ['serve', registryConfig], {
      env: baseEnv,
      logFile: registryLog,
    });

    const docker = dir('docker');
    const dockerLog = join(logsDir, 'dockerd.log');
    const socket = join(docker, 'sock');
    // Its own (empty) daemon.json, so nothing in the machine's /etc/docker changes how it runs.
    writeFileSync(join(docker, 'daemon.json'), '{}');
    // prettier-ignore
    const dockerd = ns.start('dockerd', [
      '--config-file', join(docker, 'daemon.json'), '--storage-driver=vfs', '--iptables=false',
      '--bridge=none', '--data-root', join(docker, 'data'), '--exec-root', join(docker, 'exec'),
      '--pidfile', join(docker, 'dockerd.pid'), '-H', `unix://${socket}`,
    ], { env: baseEnv, logFile: dockerLog });

    const logs = () =>
      [registryLog, dockerLog]
        .map((file) => `--- ${file}\n${existsSync(file) ? readFileSync(file, 'utf8').slice(-4000) : ''}`)
        .join('\n');
    const listening = `listening on ${REGISTRY_ADDRESS}:443`;
    await waitFor('the registry', registry, () => logContains(registryLog, listening), logs);
    await waitFor('dockerd', dockerd, () => pingDocker(socket), logs);

    const world: RegistryWorld = {
      sandbox,
      ecr,
      token,
      image: writeStandInImage(dir('stand-in'), '1', `stand-in ${randomBytes(8).toString('hex')}\n`),
      registryData,
      env: (extra = {}) =>
        sandbox.env({
          ...KEYS,
          AWS_ENDPOINT_URL_ECR: ecrInside,
          DOCKER_HOST: `unix://${socket}`,
          DOCKER_CLI_HINTS: 'false',
          ...extra,
        }),
      run: (command, args, options = {}) =>
        ns
          .run(command, args, { env: options.env ?? world.env(), input: options.input, timeoutMs: 60_000 })
          .then(({ status, stdout, stderr }) => ({ code: status, stdout, stderr })),
      logs,
      close,
    };

    // The registry holds the stand-in before any test: pushed with the token as a static
    // credential, which also shows the registry accepts exactly what the fake ECR issues.
    const seedAuth = join(sandbox.home, 'seed-auth.json');
    const basic = Buffer.from(`AWS:${token}`).toString('base64');
    writeFileSync(seedAuth, JSON.stringify({ auths: { [REGISTRY]: { auth: basic } } }), { mode: 0o600 });
    const seed = await world.run('skopeo', [
      'copy',
      '--quiet',
      '--dest-authfile',
      seedAuth,
      world.image.reference,
      `docker://${STAND_IN}`,
    ]);
    if (seed.code !== 0) throw new Error(`seeding the registry failed: ${seed.stderr}\n${logs()}`);
    return world;
  } catch (error) {
    await close();
    throw error;
  }
}

function logContains(file: string, text: string): boolean {
  return existsSync(file) && readFileSync(file, 'utf8').includes(text);
}

function pingDocker(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Daemons start in a few seconds on a loaded 2-core machine; 45 s is the give-up point. */
async function waitFor(
  what: string,
  daemon: ChildProcess,
  ready: () => boolean | Promise<boolean>,
  logs: () => string,
) {
  const deadline = Date.now() + 45_000;
  while (!(await ready())) {
    if (daemon.exitCode !== null) throw new Error(`${what} exited (${daemon.exitCode})\n${logs()}`);
    if (Date.now() > deadline) throw new Error(`${what} did not start within 45 s\n${logs()}`);
    await sleep(100);
  }
}
