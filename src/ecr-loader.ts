/**
 * Loads src/ecr.ts, and with it the AWS SDK, only when a token must be fetched. The build points
 * this `require` at a second bundle file (dist/ecr-sdk.cjs) so that a cache hit never even parses
 * the SDK; the single executable bundles it as a lazily evaluated module instead (a V8 code cache
 * rules out import()).
 */
import type * as Ecr from './ecr';

export function loadEcr(): typeof Ecr {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./ecr') as typeof Ecr;
}
