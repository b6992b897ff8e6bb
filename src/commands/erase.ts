/** `erase`: `docker logout` drops the cached tokens for that registry, for every identity. */
import type { Context } from '../context';
import { HelperError } from '../protocol';
import { parseRegistry } from '../registry';

export async function erase(ctx: Context, serverUrl: string): Promise<void> {
  const registry = parseRegistry(serverUrl);
  if (!registry) return;
  try {
    await ctx.cache.remove(registry.host);
  } catch (err) {
    // AWS_ECR_IGNORE_CREDS_STORAGE promises success whatever happens; the log still says why.
    if (ctx.settings.ignoreCredsStorage) {
      ctx.logger.warn('could not update the token cache', { reason: (err as Error).message });
      return;
    }
    throw new HelperError(`ecr-login: could not update the token cache: ${(err as Error).message}`);
  }
  ctx.logger.info('erased cached tokens', { host: registry.host });
}
