import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The layers (README, Architecture), kept by lint so the picture cannot rot:
 *   - only the AWS modules import the SDK (a cache hit must never load it);
 *   - the protocol layer knows nothing of AWS, the cache or the commands;
 *   - the cache knows nothing of AWS or the commands;
 *   - nothing but the protocol layer writes to stdout.
 */
const AWS_MODULES = ['src/ecr.ts', 'src/doctor-probe.ts'];
const SDK = {
  group: ['@aws-sdk/*', '@smithy/*'],
  message: 'Only the AWS modules (src/ecr.ts, src/doctor-probe.ts) import the SDK.',
};
const AWS = {
  group: ['**/ecr', '**/doctor-probe', '**/proxy-agent'],
  message: 'This layer knows nothing of AWS: it reaches the SDK through src/lazy.ts, if at all.',
};
const COMMANDS = { group: ['**/commands/*', '**/cli'], message: 'Lower layers do not import the commands.' };
const CACHE = { group: ['**/cache/*'], message: 'The protocol layer knows nothing of the cache.' };

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: AWS_MODULES,
    rules: {
      // stdout belongs to the credential-helper protocol: only src/protocol/output.ts may write to it.
      'no-console': 'error',
      'no-restricted-imports': ['error', { patterns: [SDK] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/protocol/output.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'stdout', message: 'Only src/protocol/output.ts writes to stdout.' },
      ],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SDK, AWS, COMMANDS, CACHE] }] },
  },
  {
    files: ['src/cache/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SDK, AWS, COMMANDS] }] },
  },
);
