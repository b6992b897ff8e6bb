/**
 * One redactor for every output but the protocol answer: stderr, the log at debug, doctor text and
 * JSON. Each case puts a secret where an error message or a log line would carry it; the shared
 * assertion (test/support/secrets.ts) then checks every output and log file, and these tests check
 * that the message around the secret is still there.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixture } from '../support/fixture';
import { KEYS, REGISTRY, runHelper } from '../support/helper';
import { rememberSecret } from '../support/secrets';

const f = useFixture();

function debugLog(): string {
  return readFileSync(join(f.box.cacheDir, 'log', 'ecr-login.log'), 'utf8');
}

async function doctorOutputs(env: NodeJS.ProcessEnv): Promise<string[]> {
  const text = await runHelper(['doctor', REGISTRY], { env });
  const json = await runHelper(['doctor', REGISTRY, '--json'], { env });
  JSON.parse(json.stdout);
  return [text.stdout, json.stdout];
}

describe('the redactor', () => {
  it('hides the query of an unreachable container credentials URL', async () => {
    const token = 'podtoken4242';
    rememberSecret(token);
    const env = f.box.env({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:9/v2/auth?token=${token}`,
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
      AWS_ECR_LOG_LEVEL: 'debug',
    });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('container credentials (http://127.0.0.1:9/v2/auth?token=[redacted])');
    for (const out of await doctorOutputs(env)) expect(out).toContain('?token=[redacted]');
    expect(debugLog()).toContain('?token=[redacted]');
  });

  it('hides a short session token and secret key that AWS echoes back, whatever their length', async () => {
    const session = 'sess-0042';
    const env = f.env({ AWS_SESSION_TOKEN: session, AWS_ECR_LOG_LEVEL: 'debug' });
    f.ecr.setBehaviour({
      error: {
        type: 'UnrecognizedClientException',
        message: `The security token ${session} is invalid for key ${KEYS.AWS_SECRET_ACCESS_KEY}`,
      },
    });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.stderr).toContain('The security token [redacted] is invalid for key [redacted]');
    for (const out of await doctorOutputs(env)) expect(out).toContain('The security token [redacted]');
    expect(debugLog()).toContain('The security token [redacted]');
  });

  it('hides secrets from the shared credentials file', async () => {
    const secret = 'shortsecret1';
    mkdirSync(join(f.box.home, '.aws'), { recursive: true });
    writeFileSync(
      join(f.box.home, '.aws', 'credentials'),
      `[default]\naws_access_key_id = AKIDFILE000000000001\naws_secret_access_key = ${secret}\n`,
    );
    f.ecr.credentials.set('AKIDFILE000000000001', secret);
    const env = f.box.env({ AWS_ENDPOINT_URL_ECR: f.ecr.url });
    f.ecr.setBehaviour({ error: { type: 'InvalidSignatureException', message: `signed with ${secret}` } });
    const run = await runHelper(['get'], { input: REGISTRY, env });
    expect(run.stderr).toContain('signed with [redacted]');
  });

  it('hides user:password in a registry key and credential_process arguments at debug', async () => {
    const argument = 'op-session-9f8e7d';
    mkdirSync(join(f.box.home, '.aws'), { recursive: true });
    const script = join(f.box.home, 'creds.sh');
    writeFileSync(
      script,
      `#!/bin/sh\necho '{"Version":1,"AccessKeyId":"AKIDPROCESS000000001","SecretAccessKey":"x","SessionToken":"t"}'\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(f.box.home, '.aws', 'config'),
      `[profile proc]\ncredential_process = ${script} --session ${argument}\n`,
    );
    f.ecr.credentials.set('AKIDPROCESS000000001', 'x');
    const env = f.box.env({
      AWS_PROFILE: 'proc',
      AWS_ENDPOINT_URL_ECR: f.ecr.url,
      AWS_ECR_LOG_LEVEL: 'debug',
    });
    expect((await runHelper(['get'], { input: REGISTRY, env })).status).toBe(0);
    rememberSecret('hunter2pw');
    await runHelper(['get'], { input: 'https://alice:hunter2pw@registry.example.com/v2/', env });
    const log = debugLog();
    expect(log).toContain('https://[redacted]@registry.example.com');
    expect(log).toContain('profile \\"proc\\" (credential_process)');
    for (const out of await doctorOutputs(env)) expect(out).not.toContain(argument);
  });
});
