/**
 * Modules a cache hit must not pay for, loaded with `require` only when needed: the two that import
 * the AWS SDK, and the operator commands. The node build points each `require` at a bundle file of
 * its own (dist/ecr-sdk.cjs, dist/doctor-sdk.cjs, dist/operator.cjs) so that a hit does not even
 * parse them; the single executable bundles them as lazily evaluated modules instead (a V8 code
 * cache rules out import()).
 */
import { mkdirSync } from 'node:fs';
import type * as Operator from './commands/operator';
import type * as DoctorProbe from './doctor-probe';
import type * as Ecr from './ecr';

/* eslint-disable @typescript-eslint/no-require-imports */

/**
 * On Node 22.1 and newer, keep V8's compiled code for the SDK bundle (half a megabyte: compiling it
 * is about a fifth of a cache miss) in a directory of our own, 0700, rather than the shared tmpdir
 * default. Older Node has no compile cache; the single executable carries its own.
 */
function enableCompileCache(dir: string): void {
  const { enableCompileCache } = require('node:module') as { enableCompileCache?: (dir: string) => unknown };
  if (!enableCompileCache) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    enableCompileCache(dir);
  } catch {
    // a cache we cannot write only costs time
  }
}

export function loadEcr(compileCacheDir: string): typeof Ecr {
  enableCompileCache(compileCacheDir);
  return require('./ecr') as typeof Ecr;
}

/** `doctor`'s probe, which also carries the STS client. */
export function loadDoctorProbe(compileCacheDir: string): typeof DoctorProbe {
  enableCompileCache(compileCacheDir);
  return require('./doctor-probe') as typeof DoctorProbe;
}

/** configure, doctor, policy: several times the size of the helper path itself. */
export function loadOperatorCommands(): typeof Operator {
  return require('./commands/operator') as typeof Operator;
}
/* eslint-enable @typescript-eslint/no-require-imports */
