import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The layers (docs/architecture.md), kept by lint so the picture cannot rot:
 *   - only src/aws/ecr.ts and doctor-probe.ts import the SDK, by any means, and only through the
 *     lazily loaded bundle (a cache hit must never load it);
 *   - the protocol layer knows nothing of AWS, the cache, docker files or the commands;
 *   - the cache knows nothing of AWS, docker files or the commands;
 *   - src/aws/ and src/docker/ do not reach up into the commands;
 *   - nothing but src/protocol/output.ts writes to stdout.
 */
/** The modules that import the SDK: reached only through the lazily loaded bundle (src/aws/index.ts). */
const SDK_MODULES = ['src/aws/ecr.ts', 'src/aws/doctor-probe.ts', 'src/aws/index.ts'];

/** What a layer may not reach, as import groups and as the same paths for require() and import(). */
const LAYERS = {
  sdk: {
    group: ['@aws-sdk/*', '@smithy/*'],
    re: '^@(aws-sdk|smithy)/',
    message: 'Only src/aws/ecr.ts and doctor-probe.ts import the SDK, and only lazily.',
  },
  aws: {
    group: ['**/aws', '**/aws/*'],
    re: '(^|/)aws(/|$)',
    message: 'This layer knows nothing of AWS: it reaches the SDK through src/lazy.ts, if at all.',
  },
  docker: {
    group: ['**/docker/*'],
    re: '(^|/)docker/',
    message: 'This layer knows nothing of docker config files.',
  },
  commands: {
    group: ['**/commands/*', '**/cli'],
    re: '(^|/)(commands/|cli$)',
    message: 'Lower layers do not import the commands.',
  },
  cache: {
    group: ['**/cache/*'],
    re: '(^|/)cache/',
    message: 'The protocol layer knows nothing of the cache.',
  },
  wiring: {
    group: ['**/context', '**/lazy'],
    re: '(^|/)(context|lazy)$',
    message: 'The protocol layer is below the wiring of the commands.',
  },
};

function restrict(...names) {
  const layers = names.map((name) => LAYERS[name]);
  // esquery's regular expressions cannot hold a slash: spell it \u002F.
  const selectors = layers.flatMap(({ re, message }) => {
    const pattern = re.replaceAll('/', '\\u002F');
    return [
      { selector: `CallExpression[callee.name='require'][arguments.0.value=/${pattern}/]`, message },
      { selector: `ImportExpression[source.value=/${pattern}/]`, message },
    ];
  });
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: layers.map(({ group, message }) => ({ group, message })),
        // stdout belongs to the protocol, however it is reached.
        paths: [
          {
            name: 'node:process',
            importNames: ['stdout'],
            message: 'Only src/protocol/output.ts writes to stdout.',
          },
        ],
      },
    ],
    'no-restricted-syntax': ['error', ...selectors],
  };
}

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
    rules: {
      // stdout belongs to the credential-helper protocol: only src/protocol/output.ts may write to it.
      'no-console': 'error',
      ...restrict('sdk'),
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
  { files: ['src/protocol/**/*.ts'], rules: restrict('sdk', 'aws', 'commands', 'cache', 'docker', 'wiring') },
  { files: ['src/cache/**/*.ts'], rules: restrict('sdk', 'aws', 'commands', 'docker') },
  { files: ['src/aws/**/*.ts', 'src/docker/**/*.ts'], rules: restrict('sdk', 'commands') },
  { files: SDK_MODULES, rules: restrict('commands') },
);
