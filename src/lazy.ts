/**
 * Modules a cache hit must not pay for, loaded with `require` only when needed: the two that import
 * the AWS SDK, and the operator commands. The node build points each `require` at a bundle file of
 * its own (dist/ecr-sdk.cjs, dist/doctor-sdk.cjs, dist/operator.cjs) so that a hit does not even
 * parse them; the single executable bundles them as lazily evaluated modules instead (a V8 code
 * cache rules out import()).
 */
import type * as Operator from './commands/operator';
import type * as DoctorProbe from './doctor-probe';
import type * as Ecr from './ecr';

/* eslint-disable @typescript-eslint/no-require-imports */
export function loadEcr(): typeof Ecr {
  return require('./ecr') as typeof Ecr;
}

/** `doctor`'s probe, which also carries the STS client. */
export function loadDoctorProbe(): typeof DoctorProbe {
  return require('./doctor-probe') as typeof DoctorProbe;
}

/** configure, doctor, policy: several times the size of the helper path itself. */
export function loadOperatorCommands(): typeof Operator {
  return require('./commands/operator') as typeof Operator;
}
/* eslint-enable @typescript-eslint/no-require-imports */
