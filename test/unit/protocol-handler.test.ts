/**
 * The protocol layer in-process: what docker sees on stdout and stderr, and the exit code, for
 * each answer or failure of a helper. The expected strings are docker-credential-helpers' own.
 */
import { describe, expect, it } from 'vitest';
import {
  type Action,
  type Credentials,
  handle,
  type Helper,
  HelperError,
  InputTooLargeError,
  NotFound,
  type Output,
} from '../../src/protocol';

function capture(): Output & { out: string; err: string } {
  const sink = {
    out: '',
    err: '',
    stdout: (text: string) => void (sink.out += text),
    stderr: (text: string) => void (sink.err += text),
  };
  return sink;
}

const CREDS: Credentials = { ServerURL: 'r.example', Username: 'AWS', Secret: 's3cr3t-token-value' };

/** A helper whose every action records its argument and does what `behave` says. */
function helper(behave: (action: string, arg: unknown) => unknown = () => undefined) {
  const calls: [string, unknown][] = [];
  const act = async (action: string, arg?: unknown) => {
    calls.push([action, arg]);
    return behave(action, arg);
  };
  const h: Helper = {
    get: async (url) => ((await act('get', url)) as Credentials | undefined) ?? CREDS,
    store: async (c) => void (await act('store', c)),
    erase: async (url) => void (await act('erase', url)),
    list: async () => ((await act('list')) as Record<string, string> | undefined) ?? { 'https://r': 'AWS' },
  };
  return { h, calls };
}

async function run(h: Helper, action: Action, input: string | (() => Buffer)) {
  const out = capture();
  const read = typeof input === 'string' ? () => Buffer.from(input) : input;
  const code = await handle(h, action, read, out, { program: 'ecr-login' });
  return { code, stdout: out.out, stderr: out.err };
}

const throwing = (err: unknown) => () => {
  throw err;
};

describe('get', () => {
  it('answers the credentials as JSON with the key trimmed', async () => {
    const { h, calls } = helper();
    expect(await run(h, 'get', '  r.example\n')).toEqual({
      code: 0,
      stdout: JSON.stringify(CREDS) + '\n',
      stderr: '',
    });
    expect(calls).toEqual([['get', 'r.example']]);
  });

  it("answers an empty key with the helpers' error and never asks the helper", async () => {
    const { h, calls } = helper();
    expect(await run(h, 'get', ' \n')).toEqual({
      code: 1,
      stdout: 'no credentials server URL\n',
      stderr: '',
    });
    expect(calls).toEqual([]);
  });

  it('answers not found, with the reason on stderr only', async () => {
    const quiet = helper(throwing(new NotFound()));
    expect(await run(quiet.h, 'get', 'x')).toEqual({
      code: 1,
      stdout: 'credentials not found in native keychain\n',
      stderr: '',
    });
    const told = helper(throwing(new NotFound('ecr-login: no token for x: access denied\nsecond line')));
    expect(await run(told.h, 'get', 'x')).toEqual({
      code: 1,
      stdout: 'credentials not found in native keychain\n',
      stderr: 'ecr-login: no token for x: access denied second line\n',
    });
  });

  it('answers not found for any unexpected failure: no stack, no secret', async () => {
    const err = new Error(`boom with aws_secret_access_key=${'a'.repeat(40)}`);
    const { h } = helper(throwing(err));
    const result = await run(h, 'get', 'x');
    expect(result.stdout).toBe('credentials not found in native keychain\n');
    expect(result.stderr).toMatch(/^ecr-login: boom with/);
    expect(result.stderr).not.toContain('a'.repeat(40));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers not found for input that is no text, and for input too large (quietly)', async () => {
    const { h, calls } = helper();
    expect(await run(h, 'get', () => Buffer.from([0xff, 0xfe]))).toMatchObject({
      code: 1,
      stdout: 'credentials not found in native keychain\n',
    });
    expect(await run(h, 'get', throwing(new InputTooLargeError()))).toEqual({
      code: 1,
      stdout: 'credentials not found in native keychain\n',
      stderr: '',
    });
    expect(calls).toEqual([]);
  });
});

describe('store', () => {
  const payload = JSON.stringify({ ServerURL: 'r.example', Username: 'AWS', Secret: 'pw' });

  it('passes the decoded payload on, exit 0 with nothing printed', async () => {
    const { h, calls } = helper();
    expect(await run(h, 'store', payload)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(calls).toEqual([['store', { ServerURL: 'r.example', Username: 'AWS', Secret: 'pw' }]]);
  });

  it('refuses a payload that is not the documented shape, and an empty server URL', async () => {
    const { h, calls } = helper();
    expect(await run(h, 'store', '{"Username":"AWS"}')).toMatchObject({
      code: 1,
      stdout: 'ecr-login: store expects {"ServerURL":"...","Username":"...","Secret":"..."} on stdin\n',
    });
    expect(await run(h, 'store', JSON.stringify({ ServerURL: ' ' }))).toMatchObject({
      code: 1,
      stdout: 'no credentials server URL\n',
    });
    expect(calls).toEqual([]);
  });

  it("prints a helper's refusal as the error line", async () => {
    const { h } = helper(throwing(new HelperError('not an ECR registry')));
    expect(await run(h, 'store', payload)).toEqual({ code: 1, stdout: 'not an ECR registry\n', stderr: '' });
  });
});

describe('erase', () => {
  it("passes the trimmed key on; an empty one is the helpers' error", async () => {
    const { h, calls } = helper();
    expect(await run(h, 'erase', 'https://r.example\n')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await run(h, 'erase', '')).toMatchObject({ code: 1, stdout: 'no credentials server URL\n' });
    expect(calls).toEqual([['erase', 'https://r.example']]);
  });

  it('turns an unexpected failure into one line on stdout, exit 1', async () => {
    const { h } = helper(throwing(new Error('ENOSPC: no space left')));
    expect(await run(h, 'erase', 'r')).toEqual({
      code: 1,
      stdout: 'ecr-login: ENOSPC: no space left\n',
      stderr: '',
    });
  });
});

describe('list', () => {
  it('answers the JSON object and never reads stdin (a terminal would block it)', async () => {
    const { h } = helper();
    expect(await run(h, 'list', throwing(new Error('stdin read')))).toEqual({
      code: 0,
      stdout: '{"https://r":"AWS"}\n',
      stderr: '',
    });
  });
});
