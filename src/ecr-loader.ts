/**
 * Loads the modules that import the AWS SDK only when they are needed. The node build points each
 * `require` at a bundle file of its own (dist/ecr-sdk.cjs, dist/doctor-sdk.cjs) so that a cache
 * hit never even parses the SDK; the single executable bundles them as lazily evaluated modules
 * instead (a V8 code cache rules out import()).
 */
import type * as DoctorProbe from './doctor-probe';
import type * as Ecr from './ecr';

export function loadEcr(): typeof Ecr {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./ecr') as typeof Ecr;
}

/** The same for `doctor`'s probe, which also carries the STS client. */
export function loadDoctorProbe(): typeof DoctorProbe {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./doctor-probe') as typeof DoctorProbe;
}
