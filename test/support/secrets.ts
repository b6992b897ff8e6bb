/**
 * The shared no-secret assertion. Every helper run (runHelper) is checked at once against the
 * secrets its environment carries, and recorded; the fixture's afterEach checks the recorded runs
 * and the log files again, against everything learned during the test (passwords the fake ECR
 * issued, session tokens it saw, secrets a test remembered). Only the protocol answer's Secret may
 * show a secret.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './helper';

/** The same floor as the helper's redactor: shorter values are not secrets. */
const MIN_LENGTH = 6;

const learned = new Set<string>();
const runs: { result: RunResult; secrets: string[] }[] = [];

/** Values no output may show from now until the end of the test (fake-issued keys, tokens). */
export function rememberSecret(...values: (string | undefined)[]): void {
  for (const value of values) {
    const secret = value?.trim();
    if (secret && secret.length >= MIN_LENGTH) learned.add(secret);
  }
}

/** An ECR password and the base64 token that carries it. */
export function rememberEcrPassword(password: string | undefined): void {
  if (!password) return;
  rememberSecret(password, Buffer.from(`AWS:${password}`).toString('base64'));
}

function readIfFile(path: string | undefined): string {
  try {
    return path && statSync(path).isFile() ? readFileSync(path, 'utf8') : '';
  } catch {
    return '';
  }
}

const INI_SECRET = /^\s*(?:aws_secret_access_key|aws_session_token|aws_security_token)\s*=\s*(.+)$/gm;
const CREDENTIAL_PROCESS = /^\s*credential_process\s*=\s*\S+\s+(.+)$/gm;

/** What the helper's environment gives it that must never be shown. */
export function secretsIn(env: NodeJS.ProcessEnv): string[] {
  const found = [
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN,
    readIfFile(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE),
  ];
  for (const file of [env.AWS_SHARED_CREDENTIALS_FILE, env.AWS_CONFIG_FILE]) {
    const text = readIfFile(file);
    for (const match of text.matchAll(INI_SECRET)) found.push(match[1]);
    for (const match of text.matchAll(CREDENTIAL_PROCESS)) {
      const args = match[1].trim().split(/\s+/);
      found.push(match[1].trim(), ...args.filter((arg) => !/^--?[\w-]+$/.test(arg)));
    }
  }
  return found
    .map((value) => value?.trim())
    .filter((value): value is string => !!value && value.length >= MIN_LENGTH);
}

export class SecretLeakError extends Error {}

function assertAbsent(where: string, text: string, secrets: Iterable<string>): void {
  for (const secret of secrets) {
    if (text.includes(secret)) {
      throw new SecretLeakError(
        `a secret (${secret.slice(0, 3)}…, ${secret.length} chars) appears in ${where}`,
      );
    }
  }
}

/** stdout without the protocol answer's Secret, which is the one place a secret belongs. */
function stdoutWithoutAnswer(stdout: string): string {
  try {
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    if (answer && typeof answer.Secret === 'string') {
      rememberEcrPassword(answer.Secret);
      return JSON.stringify({ ...answer, Secret: undefined });
    }
  } catch {
    // not a protocol answer: all of it is checked
  }
  return stdout;
}

function check(result: RunResult, secrets: Iterable<string>): void {
  assertAbsent('stdout', stdoutWithoutAnswer(result.stdout), secrets);
  assertAbsent('stderr', result.stderr, secrets);
}

/** Check one run's stdout and stderr now, against its environment's secrets and those learned; throws SecretLeakError. */
export function checkRun(result: RunResult, env: NodeJS.ProcessEnv): void {
  check(result, [...secretsIn(env), ...learned]);
}

/** runHelper's hook: check now and keep the run (with its environment's secrets) for the end-of-test check. */
export function recordRun(result: RunResult, env: NodeJS.ProcessEnv): void {
  runs.push({ result, secrets: secretsIn(env) });
  checkRun(result, env);
}

function logFiles(dir: string, depth = 4): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...logFiles(path, depth - 1));
    else if (entry.isFile() && /\.log(\.\d+)?$/.test(entry.name)) out.push(path);
  }
  return out;
}

/**
 * The end-of-test check: every recorded run again (secrets learned later count too) and every log
 * file under `dirs`. Forgets the test's runs and secrets, also when it fails.
 */
export function checkNoSecretsLeaked(dirs: string[]): void {
  try {
    for (const { result } of runs) stdoutWithoutAnswer(result.stdout);
    const all = new Set([...learned, ...runs.flatMap((run) => run.secrets)]);
    for (const { result } of runs) check(result, all);
    for (const file of dirs.flatMap((dir) => logFiles(dir))) {
      assertAbsent(file, readFileSync(file, 'utf8'), all);
    }
  } finally {
    learned.clear();
    runs.length = 0;
  }
}
