import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The layers (docs/architecture.md), kept by lint so the picture cannot rot:
 *   - only src/aws/ imports the SDK (a cache hit must never load it);
 *   - the protocol layer knows nothing of AWS, the cache, docker files or the commands;
 *   - the cache knows nothing of AWS, docker files or the commands;
 *   - src/aws/ and src/docker/ do not reach up into the commands;
 *   - nothing but src/protocol/output.ts writes to stdout.
 */
const AWS_MODULES = ['src/aws/**/*.ts'];
const SDK = { group: ['@aws-sdk/*', '@smithy/*'], message: 'Only src/aws/ imports the SDK.' };
const AWS = {
  group: ['**/aws', '**/aws/*'],
  message: 'This layer knows nothing of AWS: it reaches the SDK through src/lazy.ts, if at all.',
};
const DOCKER = { group: ['**/docker/*'], message: 'This layer knows nothing of docker config files.' };
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
    rules: { 'no-restricted-imports': ['error', { patterns: [SDK, AWS, COMMANDS, CACHE, DOCKER] }] },
  },
  {
    files: ['src/cache/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SDK, AWS, COMMANDS, DOCKER] }] },
  },
  {
    files: ['src/aws/**/*.ts', 'src/docker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [COMMANDS] }] },
  },
);
