// Bundles the helper with esbuild into dist/:
//   docker-credential-ecr-login.cjs  the entry; small, so a cache hit parses almost nothing
//   aws-sdk.cjs                      src/aws and the AWS SDK, required only on a cache miss and by `doctor`
//   aws-sdk.cjs.node-<v>-<arch>.cache  V8's code for it after real misses, for the Node that built it
//   operator.cjs                     configure, doctor, policy: required only by those commands
//   docker-credential-ecr-login-linux-amd64, -linux-arm64
//                                    the single executables, Node embedded, the SDK bundle as an
//                                    asset (scripts/sea.mjs); the npm bin is the .cjs
//   docker-credential-ecr-login      this machine's: a hard link to the executable for its
//                                    architecture, else (macOS, Windows, no such Node) a copy of the .cjs
//   test/fakes.cjs                   the loopback AWS endpoints, for `npm run demo` and the bench (not
//                                    a release file: outside SHA256SUMS)
//   SHA256SUMS                       checksums of the release files above (`cd dist && sha256sum -c SHA256SUMS`)
import { build } from 'esbuild';
import { chmodSync, copyFileSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSingleExecutables, hostTarget, writeChecksums } from './sea.mjs';

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
  // The SDK's ES module builds: esbuild drops what our path never uses (other commands, the HTTP/2
  // handler and its `http2` import), where the CommonJS builds would keep whole packages.
  mainFields: ['module', 'main'],
  // Their import() of built-ins becomes require(): the single executable runs the SDK bundle
  // through vm.Script (src/embedded.ts), which has no import() callback.
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
};

/**
 * Keep the lazy `require`s of src/lazy.ts runtime requires of bundles of their own, so that a
 * cache hit parses neither the AWS SDK nor the operator commands.
 */
const LAZY_BUNDLES = {
  './aws': './aws-sdk.cjs',
  './commands/operator': './operator.cjs',
};
const lazyBundlesAsFiles = (names = Object.keys(LAZY_BUNDLES)) => ({
  name: 'lazy-bundles-as-files',
  setup(b) {
    b.onResolve({ filter: /^\.\/(aws|commands\/operator)$/ }, (args) =>
      names.includes(args.path) ? { path: LAZY_BUNDLES[args.path], external: true } : undefined,
    );
  },
});
/** The single executable carries the SDK bundles as assets of the same names (src/embedded.ts). */
const SDK_BUNDLES = ['./aws'];

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const started = performance.now();
await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'src/cli.ts')],
    outfile: entry,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [lazyBundlesAsFiles()],
  }),
  build({ ...common, entryPoints: [join(root, 'src/aws/index.ts')], outfile: join(dist, 'aws-sdk.cjs') }),
  build({
    ...common,
    entryPoints: [join(root, 'src/commands/operator.ts')],
    outfile: join(dist, 'operator.cjs'),
    plugins: [lazyBundlesAsFiles()],
  }),
  build({
    ...common,
    minify: false,
    entryPoints: [join(root, 'test/fakes/index.ts')],
    outfile: join(dist, 'test', 'fakes.cjs'),
  }),
]);

// The single executables: src/cli.ts bundled again with the operator commands inside, and the SDK
// bundles just built as assets.
const executable = join(dist, 'docker-credential-ecr-login');
const sea = buildSingleExecutables({
  entry: join(root, 'src/cli.ts'),
  prefix: executable,
  esbuildOptions: { ...common, plugins: [lazyBundlesAsFiles(SDK_BUNDLES)] },
  assets: Object.fromEntries(
    SDK_BUNDLES.map((name) => [LAZY_BUNDLES[name].slice(2), join(dist, LAZY_BUNDLES[name])]),
  ),
  codeCacheFor: LAZY_BUNDLES['./aws'].slice(2),
  // The npm bin carries one too, for the Node that built it (src/lazy.ts; V8 refuses it on any other).
  hostCodeCache: join(dist, `aws-sdk.cjs.node-${process.version}-${process.arch}.cache`),
});

chmodSync(entry, 0o755);
const built = await sea;
for (const [release, result] of Object.entries(built)) {
  if (result.skipped) console.warn(`build: no ${release} executable: ${result.skipped}`);
  else
    console.log(
      `build: ${release} ${(result.bytes / 2 ** 20).toFixed(1)} MiB, Node ${result.node}, ${result.ms} ms` +
        (result.cacheMs === undefined ? ', no SDK code cache' : ` (SDK code cache: ${result.cacheMs} ms)`),
    );
}
const host = hostTarget();
if (host && !built[host.release].skipped) {
  linkSync(`${executable}-${host.release}`, executable);
} else {
  // No executable for this machine: the npm bin stands in, next to the bundles it requires.
  console.warn('build: dist/docker-credential-ecr-login is a copy of the npm bin (needs node)');
  copyFileSync(entry, executable);
  chmodSync(executable, 0o755);
}
console.log(`build: ${Math.round(performance.now() - started)} ms`);
writeChecksums(dist);
