/** What every command works with, built once from the environment. */
import { FileCache } from './cache/file-cache';
import { NullCache, type TokenCache } from './cache/token-cache';
import { createLogger, type Logger } from './log';
import { loadSettings, type Settings } from './settings';

export interface Context {
  env: NodeJS.ProcessEnv;
  settings: Settings;
  logger: Logger;
  cache: TokenCache;
}

export function createContext(env: NodeJS.ProcessEnv = process.env): Context {
  const settings = loadSettings(env);
  const logger = createLogger(settings);
  const cache = settings.cacheDisabled
    ? new NullCache()
    : new FileCache({ dir: settings.cacheDir, logger, lockWaitMs: settings.lockWaitMs });
  return { env, settings, logger, cache };
}
