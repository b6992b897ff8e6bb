// `npm run demo`: what docker receives from the helper, end to end, with no AWS account at hand.
// Starts the project's loopback ECR and ECS credential endpoints (dist/test/fakes.cjs), points the real
// AWS SDK inside the helper at them, and runs `get` twice: a cache miss, then a cache hit.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { startFakeEcr, startFakeEcsCredentials } = require(join(root, 'dist', 'test', 'fakes.cjs'));
const helper = join(root, 'dist', 'docker-credential-ecr-login.cjs');
const registry = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

/** Async, so that the fake endpoints living in this process can answer the helper. */
function runHelper(args, input, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [helper, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

const home = mkdtempSync(join(tmpdir(), 'ecr-login-demo-'));
const ecs = await startFakeEcsCredentials();
const ecr = await startFakeEcr();
try {
  // Only what an ECS task would have, plus the endpoint override: no keys, no profile.
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ECR_CACHE_DIR: join(home, '.ecr'),
    AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url,
    AWS_ENDPOINT_URL_ECR: ecr.url,
  };
  const mask = (text) => text.replace(/("Secret":")([^"]{0,6})[^"]*/, '$1$2…');
  console.log(`registry:  ${registry}`);
  console.log(`AWS:       ECR at ${ecr.url}, ECS task credentials at ${ecs.url} (loopback fakes)`);
  for (const label of ['cache miss', 'cache hit ']) {
    const started = process.hrtime.bigint();
    const run = await runHelper(['get'], registry, env);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (run.status !== 0) {
      console.error(`get failed (exit ${run.status}): ${run.stdout}${run.stderr}`);
      process.exitCode = 1;
      break;
    }
    console.log(
      `${label}: exit ${run.status} in ${ms.toFixed(0)} ms, docker receives ${mask(run.stdout.trim())}`,
    );
  }
  console.log(
    `GetAuthorizationToken calls made: ${ecr.calls.length} (signed by ${ecr.calls[0]?.accessKeyId})`,
  );
} finally {
  await ecr.close();
  await ecs.close();
  rmSync(home, { recursive: true, force: true });
}
