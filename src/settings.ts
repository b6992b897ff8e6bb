/** Everything the helper reads from its environment, in one place, with the documented defaults. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Settings {
  cacheDir: string;
  cacheDisabled: boolean;
  /** V8's compiled SDK bundle, on Node versions that can keep it. */
  compileCacheDir: string;
  /** A path, or `-` for stderr. */
  logFile: string;
  logLevel: LogLevel;
  /** Total time one `get` may spend on the network before it gives up. */
  timeoutMs: number;
  /** Time allowed to open one TCP/TLS connection. */
  connectTimeoutMs: number;
  /** How long a `get` waits for another process fetching the same token before fetching itself. */
  lockWaitMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'off'];

/** `true`, `1`, `yes`, `on` (any case) are true. The Go helper treats any value as true, even `false`. */
export function isTruthy(value: string | undefined): boolean {
  return !!value && ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

function seconds(value: string | undefined, fallbackMs: number): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : fallbackMs;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const cacheDir = resolve(expandHome(env.AWS_ECR_CACHE_DIR || '~/.ecr'));
  const level = (env.AWS_ECR_LOG_LEVEL ?? '').trim().toLowerCase() as LogLevel;
  const logFile = env.AWS_ECR_LOG_FILE || join(cacheDir, 'log', 'ecr-login.log');
  const timeoutMs = seconds(env.AWS_ECR_TIMEOUT, 10_000);
  return {
    cacheDir,
    cacheDisabled: isTruthy(env.AWS_ECR_DISABLE_CACHE),
    compileCacheDir: join(cacheDir, 'compile-cache'),
    logFile: logFile === '-' ? '-' : resolve(expandHome(logFile)),
    logLevel: LOG_LEVELS.includes(level) ? level : 'info',
    timeoutMs,
    connectTimeoutMs: seconds(env.AWS_ECR_CONNECT_TIMEOUT, Math.min(3_000, timeoutMs)),
    // Half the budget: a waiter whose holder is stuck still has time to fetch on its own.
    lockWaitMs: seconds(env.AWS_ECR_LOCK_TIMEOUT, timeoutMs / 2),
  };
}
