// Bundles the helper with esbuild into dist/:
//   docker-credential-ecr-login.cjs  the entry; small, so a cache hit parses almost nothing
//   ecr-sdk.cjs                      src/ecr.ts and the AWS SDK, required only on a cache miss
//   docker-credential-ecr-login      a runnable copy of the entry (the npm bin is the .cjs)
//   fakes.cjs                        the loopback AWS endpoints, for `npm run demo` and the bench
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'docker-credential-ecr-login.cjs');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

/** Keep `require('./ecr')` a runtime require of the second bundle instead of inlining the SDK. */
const sdkAsSeparateFile = {
  name: 'sdk-as-separate-file',
  setup(b) {
    b.onResolve({ filter: /^\.\/ecr$/ }, () => ({ path: './ecr-sdk.cjs', external: true }));
  },
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'src/cli.ts')],
    outfile: entry,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [sdkAsSeparateFile],
  }),
  build({ ...common, entryPoints: [join(root, 'src/ecr.ts')], outfile: join(dist, 'ecr-sdk.cjs') }),
  build({
    ...common,
    minify: false,
    entryPoints: [join(root, 'test/fakes/index.ts')],
    outfile: join(dist, 'fakes.cjs'),
  }),
]);

chmodSync(entry, 0o755);
copyFileSync(entry, join(dist, 'docker-credential-ecr-login'));
chmodSync(join(dist, 'docker-credential-ecr-login'), 0o755);
