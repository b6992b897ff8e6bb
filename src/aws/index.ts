/**
 * The AWS layer's one entry, built into one SDK bundle (dist/aws-sdk.cjs) that `get` and `doctor`
 * both load lazily: a token fetch, and doctor's probe.
 */
export { fetchToken } from './ecr';
export { probe } from './doctor-probe';
