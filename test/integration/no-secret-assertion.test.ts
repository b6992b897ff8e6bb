/** The shared no-secret assertion must be able to fail: each case plants a secret where it checks. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEYS, runProcess } from '../support/helper';
import { checkNoSecretsLeaked, checkRun, rememberSecret, SecretLeakError } from '../support/secrets';

const dir = mkdtempSync(join(tmpdir(), 'ecr-login-assertion-'));
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
});

/** A process that prints `stdout` and `stderr` as given, with `env`. */
function print(stdout: string, stderr: string, env: NodeJS.ProcessEnv = {}) {
  return runProcess('sh', ['-c', 'printf "%s" "$1"; printf "%s" "$2" >&2', 'sh', stdout, stderr], {
    env: { PATH: process.env.PATH, ...env },
  });
}

describe('the shared no-secret assertion', () => {
  it('fails on a secret key from the environment on stderr', async () => {
    const env = { ...KEYS };
    const run = await print('', `oops ${KEYS.AWS_SECRET_ACCESS_KEY}\n`, env);
    expect(() => checkRun(run, env)).toThrow(SecretLeakError);
    const quiet = await print('', 'all quiet\n', env);
    expect(() => checkRun(quiet, env)).not.toThrow();
  });

  it('allows the Secret of a protocol answer and nowhere else', async () => {
    const env = { AWS_SESSION_TOKEN: 'short-session-1' };
    const answer = JSON.stringify({ ServerURL: 'h', Username: 'AWS', Secret: 'short-session-1' });
    expect(() => checkRun({ status: 0, stdout: answer, stderr: '', ms: 0 }, env)).not.toThrow();
    const run = await print('list: short-session-1', '', env);
    expect(() => checkRun(run, env)).toThrow(SecretLeakError);
  });

  it('fails on credential_process arguments and secrets from the credentials file', async () => {
    writeFileSync(join(dir, 'config'), '[profile p]\ncredential_process = /bin/vault --token hvs-abcdef\n');
    writeFileSync(join(dir, 'credentials'), '[default]\naws_secret_access_key = tiny-key\n');
    const env = {
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    };
    expect(() => checkRun({ status: 1, stdout: '', stderr: 'ran hvs-abcdef', ms: 0 }, env)).toThrow(
      SecretLeakError,
    );
    expect(() => checkRun({ status: 1, stdout: '', stderr: 'signed tiny-key', ms: 0 }, env)).toThrow(
      SecretLeakError,
    );
  });

  it('fails at the end of the test on a log file holding a secret learned later', () => {
    mkdirSync(join(dir, '.ecr', 'log'), { recursive: true });
    writeFileSync(join(dir, '.ecr', 'log', 'ecr-login.log'), 'fetched fake-7-password\n');
    rememberSecret('fake-7-password');
    expect(() => checkNoSecretsLeaked([dir])).toThrow(SecretLeakError);
    // It forgot the test's secrets: a clean directory passes.
    rmSync(join(dir, '.ecr'), { recursive: true });
    expect(() => checkNoSecretsLeaked([dir])).not.toThrow();
  });
});
