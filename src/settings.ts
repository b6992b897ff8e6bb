/** Everything the helper reads from its environment, in one place, with the documented defaults. */
import { resolve } from 'node:path';
import { expandHome } from './home';

export interface Settings {
  /** Undefined when there is no home directory to put it in and AWS_ECR_CACHE_DIR is unset. */
  cacheDir: string | undefined;
  cacheDisabled: boolean;
  /** AWS_ECR_IGNORE_CREDS_STORAGE: store and erase succeed silently for any registry, as upstream. */
  ignoreCredsStorage: boolean;
  /** AWS_ECR_LOG_FILE: a path, or `-` for stderr; undefined for the default, log/ in the cache directory. */
  logFile: string | undefined;
  logLevel: LogLevel;
  /** Total time one `get` may spend on the network before it gives up. */
  timeoutMs: number;
  /** Time allowed to open one TCP/TLS connection. */
  connectTimeoutMs: number;
  /**
   * How long a process fetching a token may go without a heartbeat before a waiter takes over.
   * Waiters stay patient while the heartbeat is fresh, up to the hard cap.
   */
  lockStaleMs: number;
  /** No `get` lasts longer than this, waiting included: a few times the budget. */
  hardCapMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'off'];

/** `true`, `1`, `yes`, `on` (any case) are true. The Go helper treats any value as true, even `false`. */
export function isTruthy(value: string | undefined): boolean {
  return !!value && ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

function absolute(path: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const expanded = path === undefined ? undefined : expandHome(path, env);
  return expanded === undefined ? undefined : resolve(expanded);
}

function seconds(value: string | undefined, fallbackMs: number): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : fallbackMs;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const cacheDir = absolute(env.AWS_ECR_CACHE_DIR || '~/.ecr', env);
  const level = (env.AWS_ECR_LOG_LEVEL ?? '').trim().toLowerCase() as LogLevel;
  const logFile = env.AWS_ECR_LOG_FILE || undefined;
  const timeoutMs = seconds(env.AWS_ECR_TIMEOUT, 10_000);
  return {
    cacheDir,
    cacheDisabled: isTruthy(env.AWS_ECR_DISABLE_CACHE),
    ignoreCredsStorage: isTruthy(env.AWS_ECR_IGNORE_CREDS_STORAGE),
    logFile: logFile === '-' ? '-' : absolute(logFile, env),
    logLevel: LOG_LEVELS.includes(level) ? level : 'info',
    timeoutMs,
    connectTimeoutMs: seconds(env.AWS_ECR_CONNECT_TIMEOUT, Math.min(3_000, timeoutMs)),
    // A quarter of the budget (1 to 5 s): a waiter whose holder stopped still has time to fetch,
    // and a live holder beats several times within it even on a machine at load 100.
    lockStaleMs: seconds(env.AWS_ECR_LOCK_TIMEOUT, Math.min(5_000, Math.max(1_000, timeoutMs / 4))),
    hardCapMs: 3 * timeoutMs,
  };
}
