/**
 * Modules a cache hit must not pay for, loaded with `require` only when needed: the two that import
 * the AWS SDK, and the operator commands. The node build points each `require` at a bundle file of
 * its own (dist/aws-sdk.cjs, dist/operator.cjs) so that a hit does not even
 * parse them. The single executable carries the two SDK bundles as assets, the one a miss loads
 * with a code cache made by a real miss (src/embedded.ts), and the operator commands as lazily
 * evaluated modules of its main script (a V8 code cache rules out import()).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as Operator from './commands/operator';
import type * as Aws from './aws';
import type * as Embedded from './embedded';
import { giveSdkAHome } from './home';
import { checkTrustedTree } from './safe-fs';

/* eslint-disable @typescript-eslint/no-require-imports */

/**
 * On Node 22.1 and newer, keep V8's compiled code for the SDK bundle (half a megabyte: compiling it
 * is about a fifth of a cache miss) in the cache directory, never the shared tmpdir. Node runs what
 * it finds there, so only in a directory that passes the trust rule (`stateDir` already did): ours
 * and writable by nobody else, so nobody else can have put anything inside. Older Node has no
 * compile cache; the single executable carries a better one. The whole tree is checked, since a directory
 * that once was writable by others may hold what they left there.
 */
function enableCompileCache(stateDir: string | undefined): void {
  const { enableCompileCache } = require('node:module') as { enableCompileCache?: (dir: string) => unknown };
  if (!enableCompileCache || !stateDir) return;
  const dir = join(stateDir, 'compile-cache');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (checkTrustedTree(dir, 2)) return;
    // Node makes a versioned subdirectory inside: 0700 too, like everything we keep.
    const umask = process.umask(0o077);
    try {
      enableCompileCache(dir);
    } finally {
      process.umask(umask);
    }
  } catch {
    // a cache we cannot write only costs time
  }
}

/** The SDK bundle a single executable carries; its loader needs crypto and vm, which a hit does not. */
function loadEmbedded(name: string): unknown {
  return (require('./embedded') as typeof Embedded).loadEmbedded(name);
}

/** The AWS layer (src/aws): the SDK and what `get` and `doctor` do with it, on a miss only. */
export function loadAws(stateDir: string | undefined): typeof Aws {
  giveSdkAHome();
  const embedded = loadEmbedded('aws-sdk.cjs') as typeof Aws | undefined;
  if (embedded) return embedded;
  enableCompileCache(stateDir);
  return require('./aws') as typeof Aws;
}

/** configure, doctor, policy: several times the size of the helper path itself. */
export function loadOperatorCommands(): typeof Operator {
  return require('./commands/operator') as typeof Operator;
}
/* eslint-enable @typescript-eslint/no-require-imports */
