/** `erase`: `docker logout` drops the cached tokens for that registry, for every identity. */
import type { Context } from '../context';
import { decodeText, NO_SERVER_URL, writeLine } from '../protocol';
import { parseRegistry } from '../registry';

export async function erase(ctx: Context, input: Buffer): Promise<number> {
  const key = decodeText(input)?.trim();
  if (key === '') {
    writeLine(NO_SERVER_URL);
    return 1;
  }
  const registry = parseRegistry(key ?? '');
  if (!registry) return 0;
  try {
    await ctx.cache.remove(registry.host);
  } catch (err) {
    // AWS_ECR_IGNORE_CREDS_STORAGE promises success whatever happens; the log still says why.
    if (ctx.settings.ignoreCredsStorage) {
      ctx.logger.warn('could not update the token cache', { reason: (err as Error).message });
      return 0;
    }
    writeLine(`ecr-login: could not update the token cache: ${(err as Error).message}`);
    return 1;
  }
  ctx.logger.info('erased cached tokens', { host: registry.host });
  return 0;
}
