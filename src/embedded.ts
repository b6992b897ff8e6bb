/**
 * The single executable carries the SDK bundles as SEA assets (scripts/sea.mjs), and beside the one
 * a cache miss loads, the V8 code cache that a real miss produced at build time with the same Node
 * (scripts/sea-code-cache.ts). Node's SEA code cache covers only what V8 compiles eagerly; this one
 * also holds every function the miss ran, so the miss compiles next to nothing.
 *
 * The cache is used only when it was made from this very source (a SHA-256 of it heads the cache)
 * and V8 accepts it (same V8 version and flags); otherwise the bundle compiles from source as it
 * would without one. Either way the answer is the same.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/**
 * How a cache file starts: this, then the SHA-256 of the source it was made from, then the SHA-256
 * of V8's data, then V8's data. A release V8 checks only versions, flags and lengths, and runs
 * damaged data it accepts (a flipped byte can spin or crash it), so the data is hashed too.
 */
export const CODE_CACHE_MAGIC = Buffer.from('ecr-login code cache v2\0', 'latin1');
const HASH_BYTES = 32;

/** The asset holding the code cache for the bundle asset `name`. */
export const cacheAssetName = (name: string) => `${name}.code-cache`;

function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A CommonJS module wrapper: the same string at build time and at load, or V8 refuses the cache. */
function compile(source: string, filename: string, cachedData?: Uint8Array): Script {
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  return new Script(wrapped, { filename, cachedData });
}

/** Runs a CommonJS bundle that requires only Node's built-in modules; returns its exports. */
function evaluate(script: Script, filename: string, require: NodeJS.Require): unknown {
  const module = { exports: {} as unknown };
  const factory = script.runInThisContext() as (...args: unknown[]) => void;
  factory.call(module.exports, module.exports, require, module, filename, dirname(filename));
  return module.exports;
}

/** V8's part of a cache file when it belongs to `source`, else undefined. */
function v8Cache(file: Uint8Array | undefined, source: string): Uint8Array | undefined {
  const dataAt = CODE_CACHE_MAGIC.length + 2 * HASH_BYTES;
  if (!file || file.length <= dataAt) return undefined;
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (!bytes.subarray(0, CODE_CACHE_MAGIC.length).equals(CODE_CACHE_MAGIC)) return undefined;
  const madeFrom = bytes.subarray(CODE_CACHE_MAGIC.length, CODE_CACHE_MAGIC.length + HASH_BYTES);
  if (!madeFrom.equals(sha256(source))) return undefined;
  const data = bytes.subarray(dataAt);
  if (!bytes.subarray(dataAt - HASH_BYTES, dataAt).equals(sha256(data))) return undefined;
  return data;
}

export interface Loaded {
  exports: unknown;
  /** True when a cache was supplied and used; false when there was none or it was refused. */
  cacheUsed: boolean;
  script: Script;
}

/** Runs the bundle `source` with the cache file `cache` when it fits. */
export function loadBundle(
  source: string,
  filename: string,
  require: NodeJS.Require,
  cache?: Uint8Array,
): Loaded {
  const cachedData = v8Cache(cache, source);
  const script = compile(source, filename, cachedData);
  const cacheUsed = !!cachedData && !script.cachedDataRejected;
  return { exports: evaluate(script, filename, require), cacheUsed, script };
}

/** The cache file for a bundle loaded with loadBundle, once the code worth keeping has run. */
export function cacheFile(loaded: Loaded, source: string): Buffer {
  const data = loaded.script.createCachedData();
  return Buffer.concat([CODE_CACHE_MAGIC, sha256(source), sha256(data), data]);
}

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string;
  getAsset(key: string): ArrayBuffer;
  getRawAsset?(key: string): ArrayBuffer;
}

/** The SEA API when this process is a single executable (Node 20.12+), else undefined. */
function seaApi(): SeaModule | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as SeaModule;
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined;
  }
}

function asset(sea: SeaModule, key: string): Uint8Array | undefined {
  try {
    // The raw asset is the executable's own mapped bytes: no copy.
    return new Uint8Array(sea.getRawAsset ? sea.getRawAsset(key) : sea.getAsset(key));
  } catch {
    return undefined;
  }
}

/**
 * The exports of the bundle asset `name` of this single executable, run with its code cache when
 * it fits; undefined outside a single executable or when it carries no such asset.
 */
export function loadEmbedded(name: string): unknown {
  const sea = seaApi();
  if (!sea) return undefined;
  const bundle = asset(sea, name);
  if (!bundle) return undefined;
  // esbuild writes ASCII only (non-ASCII characters escaped), so latin1 decodes it exactly.
  const source = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength).toString('latin1');
  // Only built-in modules are required: the SEA's require is enough.
  return loadBundle(source, name, require, asset(sea, cacheAssetName(name))).exports;
}
