/**
 * Modules a cache hit must not pay for, loaded with `require` only when needed: the AWS layer (the
 * SDK) and the operator commands. The node build points each `require` at a bundle file of its own
 * (dist/aws-sdk.cjs, dist/operator.cjs) so that a hit does not even parse them. The single
 * executable carries the SDK bundle as an asset with a code cache made by a real miss
 * (src/embedded.ts), and the operator commands as lazily evaluated modules of its main script (a V8
 * code cache rules out import()).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type * as Aws from './aws';
import type * as Operator from './commands/operator';
import type * as Embedded from './embedded';
import { giveSdkAHome } from './home';
import { checkTrustedDir, checkTrustedTree, readRegularFile } from './safe-fs';

/* eslint-disable @typescript-eslint/no-require-imports */

const SDK_BUNDLE = 'aws-sdk.cjs';
/** V8's code for the SDK bundle after a whole miss: about a megabyte. */
const CODE_CACHE_LIMIT = 16 * 1024 * 1024;

/** The SDK bundle's loader needs crypto and vm, which a hit does not. */
const embedded = () => require('./embedded') as typeof Embedded;

/**
 * Where the npm bin keeps V8's code for the SDK bundle: the cache directory, which passed the trust
 * rule (`stateDir`), in a subdirectory that passes it too, all the way down. V8 runs what it finds
 * there, so nobody else may have been able to put anything inside.
 */
function codeCacheDir(stateDir: string | undefined): string | undefined {
  if (!stateDir) return undefined;
  const dir = join(stateDir, 'code-cache');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The cache directory may have been made just now, by us or by someone quicker: judge it again.
    return checkTrustedDir(stateDir) || checkTrustedTree(dir, 1) ? undefined : dir;
  } catch {
    return undefined;
  }
}

function readCodeCache(file: string): Buffer | undefined {
  try {
    return readRegularFile(file, { maxBytes: CODE_CACHE_LIMIT, owner: 'self' });
  } catch {
    return undefined;
  }
}

/**
 * Replaced atomically: concurrent misses for other registries may write it too (processes in
 * containers sharing the home can share a pid, hence a random name, created new, never reused).
 */
function writeCodeCache(file: string, data: () => Buffer): void {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const bytes = data();
    const fd = openSync(temp, 'wx', 0o600);
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // never made
    }
  }
}

/**
 * The npm bin's SDK bundle, run with the code cache a previous miss left (Node 20 has no compile
 * cache of its own; Node 22's covers less). When there was none, or V8 refused it (another Node,
 * another build), this miss leaves one as it exits, once the code worth keeping has run.
 */
function loadBundleFile(stateDir: string | undefined): typeof Aws | undefined {
  const file = join(__dirname, SDK_BUNDLE);
  // From the sources (tests of src/) there is no bundle beside us.
  if (!existsSync(file)) return undefined;
  const source = readFileSync(file, 'latin1');
  const dir = codeCacheDir(stateDir);
  const cachePath = dir && join(dir, `${SDK_BUNDLE}.cache`);
  const { loadBundle, cacheFile } = embedded();
  // Ours from an earlier miss, else the one the package carries for the Node that built it.
  const shipped = `${file}.node-${process.version}-${process.arch}.cache`;
  const cache = (cachePath ? readCodeCache(cachePath) : undefined) ?? readCodeCache(shipped);
  const loaded = loadBundle(source, file, require, cache);
  if (cachePath && !loaded.cacheUsed) {
    process.once('exit', () => writeCodeCache(cachePath, () => cacheFile(loaded, source)));
  }
  return loaded.exports as typeof Aws;
}

/** The AWS layer (src/aws): the SDK and what `get` and `doctor` do with it, on a miss only. */
export function loadAws(stateDir: string | undefined): typeof Aws {
  giveSdkAHome();
  return (
    (embedded().loadEmbedded(SDK_BUNDLE) as typeof Aws | undefined) ??
    loadBundleFile(stateDir) ??
    (require('./aws') as typeof Aws)
  );
}

/** configure, doctor, policy: several times the size of the helper path itself. */
export function loadOperatorCommands(): typeof Operator {
  return require('./commands/operator') as typeof Operator;
}
/* eslint-enable @typescript-eslint/no-require-imports */
