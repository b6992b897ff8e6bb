// The npm bin's on-disk code cache: the median wall time of N cache misses (a new registry each),
// with the cache directory kept between runs (`persist`: every miss after the first uses the code
// cache) or new for each (`fresh`: every miss compiles the SDK and writes the cache).
//   node scripts/bench-code-cache.mjs [BIN] [RUNS] [persist|fresh]
// Needs `npm run build` first (dist/test/fakes.cjs). Interleave builds yourself to compare them.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { startFakeEcr } = require(join(root, 'dist', 'test', 'fakes.cjs'));

const bin = process.argv[2] ?? join(root, 'dist', 'docker-credential-ecr-login.cjs');
const runs = Number(process.argv[3] ?? 15);
const persist = (process.argv[4] ?? 'persist') === 'persist';
const KEY = { id: 'AKIDEXAMPLE000000001', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function get(env, registry) {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, 'get'], { env });
    child.on('close', (status) => done({ status, ms: performance.now() - started }));
    child.stdin.end(registry);
  });
}

const ecr = await startFakeEcr({ credentials: { [KEY.id]: KEY.secret } });
const home = mkdtempSync(join(tmpdir(), 'bench-code-cache-'));
try {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_ACCESS_KEY_ID: KEY.id,
      AWS_SECRET_ACCESS_KEY: KEY.secret,
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ECR_CACHE_DIR: persist ? join(home, 'ecr') : mkdtempSync(join(home, 'c-')),
    };
    const { status, ms } = await get(env, `${100000000000 + i}.dkr.ecr.us-west-2.amazonaws.com`);
    if (status !== 0) throw new Error(`get exited ${status}`);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  console.log(`${bin} ${persist ? 'persist' : 'fresh'}: median ${times[runs >> 1].toFixed(1)} ms of ${runs}`);
} finally {
  await ecr.close();
  rmSync(home, { recursive: true, force: true });
}
