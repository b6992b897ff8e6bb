/**
 * File logging for a helper whose stdout belongs to docker. Never throws and never writes to
 * stdout: when the log cannot be written the helper carries on without it.
 */
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevel, Settings } from './settings';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

/** A long-lived runner calls us thousands of times a day: keep one previous file, at most this big. */
export const LOG_MAX_BYTES = 1024 * 1024;

const SECRET_PATTERNS: [RegExp, string][] = [
  // base64("AWS:...") is how every ECR token starts
  [/QVdTO[A-Za-z0-9+/=]{8,}/g, '[ecr-token]'],
  // session tokens and other long opaque blobs
  [/[A-Za-z0-9+/=]{100,}/g, '[redacted]'],
  // secret access keys are 40 characters of base64 alphabet
  [/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g, '[redacted]'],
  [/((?:secret|password|token|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[redacted]'],
];

export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${JSON.stringify(typeof v === 'string' ? v : String(v))}`)
    .join('');
}

export function createLogger(settings: Pick<Settings, 'logFile' | 'logLevel'>): Logger {
  const threshold = RANK[settings.logLevel];
  let fd: number | undefined;
  let broken = false;

  function open(): number | undefined {
    if (fd !== undefined || broken) return fd;
    try {
      if (settings.logFile === '-') return (fd = 2);
      mkdirSync(dirname(settings.logFile), { recursive: true, mode: 0o700 });
      fd = openSync(settings.logFile, 'a', 0o600);
      const stat = fstatSync(fd);
      if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      if (stat.size > LOG_MAX_BYTES) {
        closeSync(fd);
        renameSync(settings.logFile, settings.logFile + '.1');
        fd = openSync(settings.logFile, 'a', 0o600);
      }
    } catch {
      broken = true;
      fd = undefined;
    }
    return fd;
  }

  function write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < threshold) return;
    const target = open();
    if (target === undefined) return;
    const line = `${new Date().toISOString()} pid=${process.pid} ${level} ${message}${formatFields(fields)}`;
    try {
      writeSync(target, redact(line.replace(/\n/g, ' ')) + '\n');
    } catch {
      broken = true;
    }
  }

  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
