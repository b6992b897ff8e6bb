/**
 * File logging for a helper whose stdout belongs to docker. Never throws and never writes to
 * stdout: when the log cannot be written the helper carries on without it.
 */
import { closeSync, constants, fstatSync, mkdirSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redact } from './redact';
import { checkTrustedDir, openOwnedForWriting, UntrustedPathError } from './safe-fs';
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

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${JSON.stringify(typeof v === 'string' ? v : String(v))}`)
    .join('');
}

/**
 * `stateDir` is the cache directory when it passed the trust rule; the default log lives there and
 * is off without it. The log directory is checked too, and the file is opened without following a
 * symlink: a link planted at the log's path must never make us append to (or chmod) its target.
 */
export function createLogger(
  settings: Pick<Settings, 'logFile' | 'logLevel'>,
  stateDir: string | undefined,
  onRefused: (problem: UntrustedPathError) => void = () => {},
): Logger {
  const threshold = RANK[settings.logLevel];
  const file = settings.logFile ?? (stateDir && join(stateDir, 'log', 'ecr-login.log'));
  let fd: number | undefined;
  let broken = false;

  function openFile(path: string): number {
    const { fd: opened, created } = openOwnedForWriting(path, constants.O_WRONLY | constants.O_APPEND);
    if (created || fstatSync(opened).size <= LOG_MAX_BYTES) return opened;
    closeSync(opened);
    renameSync(path, path + '.1');
    return openOwnedForWriting(path, constants.O_WRONLY | constants.O_APPEND).fd;
  }

  function open(): number | undefined {
    if (fd !== undefined || broken) return fd;
    try {
      if (file === undefined) throw new Error('no log file');
      if (file === '-') return (fd = 2);
      const dir = dirname(file);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // A directory of the user's choosing (AWS_ECR_LOG_FILE) is theirs to judge; ours must pass.
      const problem = settings.logFile ? undefined : checkTrustedDir(dir);
      if (problem) throw problem;
      fd = openFile(file);
    } catch (err) {
      if (err instanceof UntrustedPathError) onRefused(err);
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
