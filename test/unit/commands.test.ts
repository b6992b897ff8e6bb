/**
 * The helper's four actions in-process, through the protocol handler, with a real context and a
 * real cache directory: the paths that need no network (hits, refusals, erase, list, store). What
 * needs the SDK, a process or real timing is in test/integration.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ecrHelper } from '../../src/commands/helper';
import { createContext, type Context } from '../../src/context';
import { resolveIdentity } from '../../src/identity';
import { type Action, handle, type Output } from '../../src/protocol';

const REGISTRY = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const HOUR = 3600_000;

let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ecr-login-inproc-'));
  env = {
    HOME: home,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000001',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    // Nothing here may reach the network: a miss would fail fast against a closed port.
    AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9',
    AWS_ECR_LOG_LEVEL: 'off',
  };
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function run(ctx: Context, action: Action, input = '') {
  const sink = { out: '', err: '' };
  const out: Output = { stdout: (t) => void (sink.out += t), stderr: (t) => void (sink.err += t) };
  const code = await handle(ecrHelper(ctx), action, () => Buffer.from(input), out, { program: 'ecr-login' });
  return { code, stdout: sink.out, stderr: sink.err };
}

async function seed(ctx: Context, password: string, issuedHoursAgo = 0) {
  const issuedAt = Date.now() - issuedHoursAgo * HOUR;
  const entry = { host: REGISTRY, service: 'ecr' as const, username: 'AWS', password, issuedAt };
  await ctx.cache.put(resolveIdentity(env).fingerprint, { ...entry, expiresAt: issuedAt + 12 * HOUR });
}

describe('the helper in-process', () => {
  it('answers a fresh cached token for any spelling of the registry', async () => {
    const ctx = createContext(env);
    await seed(ctx, 'cached-password');
    for (const key of [REGISTRY, `https://${REGISTRY}`, `${REGISTRY}:443`]) {
      const result = await run(ctx, 'get', key);
      expect(result).toEqual({
        code: 0,
        stdout: JSON.stringify({ ServerURL: key, Username: 'AWS', Secret: 'cached-password' }) + '\n',
        stderr: '',
      });
    }
  });

  it('says not found for a host that is not ECR, without a word on stderr', async () => {
    expect(await run(createContext(env), 'get', 'ghcr.io')).toEqual({
      code: 1,
      stdout: 'credentials not found in native keychain\n',
      stderr: '',
    });
  });

  it('serves a stale token at once while a refresh is backing off after a failure', async () => {
    const ctx = createContext(env);
    await seed(ctx, 'stale-but-valid', 8);
    const now = Date.now();
    await ctx.cache.putFailure(resolveIdentity(env).fingerprint, REGISTRY, {
      failedAt: now,
      retryAt: now + 60_000,
      attempts: 1,
      reason: 'ecr-login: no token: timed out',
    });
    const result = await run(ctx, 'get', REGISTRY);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).Secret).toBe('stale-but-valid');
    // No refresh was tried: one would have failed against the closed port and counted a second attempt.
    expect(createContext(env).cache.failure(resolveIdentity(env).fingerprint, REGISTRY)?.attempts).toBe(1);
  });

  it('lists what it would serve, and erase forgets it for every identity', async () => {
    const ctx = createContext(env);
    await seed(ctx, 'p');
    expect(await run(ctx, 'list')).toEqual({
      code: 0,
      stdout: `{"https://${REGISTRY}":"AWS"}\n`,
      stderr: '',
    });
    expect(await run(ctx, 'erase', `https://${REGISTRY}`)).toEqual({ code: 0, stdout: '', stderr: '' });
    const after = createContext(env);
    expect(await run(after, 'list')).toEqual({ code: 0, stdout: '{}\n', stderr: '' });
    expect(readFileSync(join(home, '.ecr', 'token-cache.json'), 'utf8')).not.toContain(REGISTRY);
  });

  it('accepts docker login to ECR without keeping anything, and refuses it for other registries', async () => {
    const ctx = createContext(env);
    const login = (server: string) => JSON.stringify({ ServerURL: server, Username: 'AWS', Secret: 'pw' });
    expect(await run(ctx, 'store', login(REGISTRY))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(join(home, '.ecr', 'token-cache.json'))).toBe(false);
    const hub = await run(ctx, 'store', login('https://index.docker.io/v1/'));
    expect(hub.code).toBe(1);
    expect(hub.stdout).toContain('is not an ECR registry');
    const ignoring = createContext({ ...env, AWS_ECR_IGNORE_CREDS_STORAGE: 'true' });
    expect(await run(ignoring, 'store', login('https://index.docker.io/v1/'))).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
  });
});
