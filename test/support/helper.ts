/**
 * Running the built helper as docker does: a separate process, the key on stdin, an environment
 * of its own. Tests drive dist/ (or ECR_LOGIN_BIN, e.g. the single executable), never src/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { recordRun } from './secrets';

export const ROOT = resolve(__dirname, '..', '..');
export const HELPER = process.env.ECR_LOGIN_BIN
  ? resolve(process.env.ECR_LOGIN_BIN)
  : join(ROOT, 'dist', 'docker-credential-ecr-login');

export const REGISTRY = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** An open file descriptor to use as stdin instead of a pipe fed with `input`. */
  stdinFd?: number;
  timeoutMs?: number;
}

/**
 * Any process, asynchronously: the fakes live in the test process and must answer while the child
 * runs, which spawnSync would prevent.
 */
export function runProcess(command: string, args: string[], options: RunOptions) {
  return new Promise<RunResult>((done, fail) => {
    const started = performance.now();
    const stdin = options.stdinFd ?? 'pipe';
    const child = spawn(command, args, {
      env: options.env,
      stdio: [stdin, 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr, ms: performance.now() - started }));
    if (child.stdin) {
      // A helper that exits before reading stdin closes the pipe; that is not the test's failure.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
    }
  });
}

/** The helper, its stdout and stderr checked for secrets (test/support/secrets.ts). */
export async function runHelper(args: string[], options: RunOptions) {
  const result = await runProcess(HELPER, args, options);
  recordRun(result, options.env);
  return result;
}

/** A throwaway HOME with nothing in it: no AWS files, no docker config, no cache. */
export class Sandbox {
  readonly home = mkdtempSync(join(tmpdir(), 'ecr-login-test-'));
  readonly cacheDir = join(this.home, '.ecr');
  readonly bin = join(this.home, 'bin');

  constructor() {
    mkdirSync(this.bin);
    // docker and skopeo find helpers on PATH by name.
    symlinkSync(HELPER, join(this.bin, 'docker-credential-ecr-login'));
  }

  /**
   * The environment of a machine with no credentials at all. IMDS and STS are pointed at a closed
   * loopback port so that nothing ever reaches 169.254.169.254 or AWS; tests override them.
   */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      PATH: `${this.bin}:${process.env.PATH}`,
      HOME: this.home,
      AWS_CONFIG_FILE: join(this.home, '.aws', 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(this.home, '.aws', 'credentials'),
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...extra,
    };
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Static keys the fake ECR knows the secret of, so it verifies their signatures. */
export const KEYS = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000001',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
