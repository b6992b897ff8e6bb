// Startup wall time of the built helper: `version`, and a cache-hit `get` (the call docker makes on
// every pull), for the single executable and for `node dist/docker-credential-ecr-login.cjs`.
//
//   node scripts/bench-startup.mjs [--runs N] [extra-executable ...]
//
// Extra executables (for example SEAs built against other Node versions with ECR_LOGIN_SEA_NODE)
// are measured beside the two defaults. The caller's NODE_EXTRA_CA_CERTS is passed on if set: Node 20
// loads that file at every start, later versions only when TLS first needs it. Commands are interleaved run by run so that machine noise
// spreads evenly; the median is reported. Needs `npm run build` first (uses dist/test/fakes.cjs to
// prime the cache through the loopback ECR).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { startFakeEcr } = require(join(root, 'dist', 'test', 'fakes.cjs'));

const args = process.argv.slice(2);
let runs = 100;
const extra = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else extra.push(resolve(args[i]));
}

const registry = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const keys = { id: 'AKIDEXAMPLE000000001', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const home = mkdtempSync(join(tmpdir(), 'ecr-login-bench-'));
const env = {
  PATH: process.env.PATH,
  HOME: home,
  AWS_ACCESS_KEY_ID: keys.id,
  AWS_SECRET_ACCESS_KEY: keys.secret,
  AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
  // Nothing listens here: a cache hit must not need it.
  AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9',
  ...(process.env.NODE_EXTRA_CA_CERTS && { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }),
};

const candidates = [
  { label: 'single executable', argv: [join(root, 'dist', 'docker-credential-ecr-login')] },
  {
    label: `node ${process.version} dist/…cjs`,
    argv: [process.execPath, join(root, 'dist', 'docker-credential-ecr-login.cjs')],
  },
  ...extra.map((file) => ({ label: basename(file), argv: [file] })),
];

function runAsync(argv, input, runEnv) {
  return new Promise((done, fail) => {
    const child = spawn(argv[0], argv.slice(1), { env: runEnv });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, out }));
    child.stdin.end(input);
  });
}

function timed(argv, input) {
  const started = process.hrtime.bigint();
  const run = spawnSync(argv[0], argv.slice(1), { env, input });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}: ${run.stdout}${run.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  // One real fetch through the loopback ECR fills the cache that every candidate then reads.
  const ecr = await startFakeEcr({ credentials: { [keys.id]: keys.secret } });
  const primed = await runAsync(candidates[0].argv.concat('get'), registry, {
    ...env,
    AWS_ENDPOINT_URL_ECR: ecr.url,
  });
  await ecr.close();
  if (primed.status !== 0) throw new Error(`priming get failed: ${primed.out}`);

  for (const [name, argvTail, input] of [
    ['version', ['version'], ''],
    ['get (cache hit)', ['get'], registry],
  ]) {
    const samples = candidates.map(() => []);
    for (let i = 0; i < 5; i++) candidates.forEach((c) => timed(c.argv.concat(argvTail), input));
    for (let i = 0; i < runs; i++) {
      candidates.forEach((c, k) => samples[k].push(timed(c.argv.concat(argvTail), input)));
    }
    const extraCa = env.NODE_EXTRA_CA_CERTS ? ', NODE_EXTRA_CA_CERTS set' : '';
    console.log(`${name}: median of ${runs} runs${extraCa}`);
    candidates.forEach((c, k) =>
      console.log(`  ${median(samples[k]).toFixed(1).padStart(7)} ms  ${c.label}`),
    );
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
