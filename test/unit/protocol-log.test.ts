import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, LOG_MAX_BYTES } from '../../src/log';
import { addCommandArguments, addSecret, redact } from '../../src/redact';
import { decodeText, parseStorePayload } from '../../src/protocol';

describe('decodeText', () => {
  it('accepts text with whitespace and refuses binary', () => {
    expect(decodeText(Buffer.from(' host\n'))).toBe(' host\n');
    expect(decodeText(Buffer.from([0x68, 0x00, 0x69]))).toBeUndefined();
    expect(decodeText(Buffer.from([0xff, 0xfe, 0x41]))).toBeUndefined();
  });
});

describe('parseStorePayload', () => {
  it('reads the documented shape and refuses others', () => {
    expect(parseStorePayload('{"ServerURL":"h","Username":"AWS","Secret":"s"}')).toEqual({
      ServerURL: 'h',
      Username: 'AWS',
      Secret: 's',
    });
    expect(parseStorePayload('{"Username":"AWS"}')).toBeUndefined();
    expect(parseStorePayload('[]')).toBeUndefined();
    expect(parseStorePayload('nope')).toBeUndefined();
  });
});

describe('redact', () => {
  it('hides tokens, secret keys and secret-looking fields', () => {
    const ecrToken = Buffer.from('AWS:' + 'x'.repeat(200)).toString('base64');
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const text = redact(`token ${ecrToken} key ${secret} "Secret":"hunter2" password=hunter3`);
    expect(text).not.toContain(ecrToken.slice(0, 30));
    expect(text).not.toContain(secret);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('hunter3');
  });

  it('hides URL userinfo and query values, with or without a scheme', () => {
    expect(redact('GET http://127.0.0.1:9/v2/auth?token=abc&x=1 failed')).toBe(
      'GET http://127.0.0.1:9/v2/auth?token=[redacted]&x=[redacted] failed',
    );
    expect(redact('key="https://alice:pw@example.com/v2/"')).toBe('key="https://[redacted]@example.com/v2/"');
    expect(redact('key="alice:pw@example.com"')).toBe('key="[redacted]@example.com"');
  });

  it('replaces known secrets literally whatever their length, and keeps JSON valid', () => {
    addSecret('s3ss10n');
    addSecret('abc'); // too short to be a secret: left alone
    addCommandArguments('/usr/bin/vault --token hvs-123456');
    const text = redact(
      '{"token":{"ok":false},"message":"token s3ss10n abc via /usr/bin/vault --token hvs-123456"}',
    );
    expect(JSON.parse(text)).toEqual({
      token: { ok: false },
      message: 'token [redacted] abc via /usr/bin/vault [redacted]',
    });
  });

  it('keeps ordinary text readable', () => {
    expect(redact('fetching token host=123456789012.dkr.ecr.us-west-2.amazonaws.com')).toBe(
      'fetching token host=123456789012.dkr.ecr.us-west-2.amazonaws.com',
    );
  });
});

describe('createLogger', () => {
  it('writes a 0600 file, filters by level and redacts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-'));
    try {
      const file = join(dir, 'log', 'ecr-login.log');
      const log = createLogger({ logFile: file, logLevel: 'info' }, undefined);
      log.debug('hidden');
      log.info('shown', { password: 'hunter2' });
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('info shown');
      expect(text).not.toContain('hidden');
      expect(text).not.toContain('hunter2');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotates a log that grew past the cap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-'));
    try {
      const file = join(dir, 'ecr-login.log');
      writeFileSync(file, 'x'.repeat(LOG_MAX_BYTES + 1));
      createLogger({ logFile: file, logLevel: 'info' }, undefined).info('after rotation');
      expect(readFileSync(file, 'utf8')).toMatch(/after rotation\n$/);
      expect(statSync(file + '.1').size).toBe(LOG_MAX_BYTES + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('carries on silently when the log cannot be written', () => {
    const log = createLogger(
      { logFile: '/etc/hostname/not-a-dir/ecr-login.log', logLevel: 'debug' },
      undefined,
    );
    expect(() => log.error('x')).not.toThrow();
  });
});
