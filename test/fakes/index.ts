// Entry point for tests and for the esbuild bundle used by the demo and benchmark: plain Node only.
export * from './sigv4';
export * from './ecr';
export * from './ecs';
export * from './imds';
export * from './sts';
export * from './docker-engine';
export * from './tls';
export * from './connect-proxy';
export * from './sso';
