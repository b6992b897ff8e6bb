/** `erase`: `docker logout` drops the cached tokens for that registry, for every identity. */
import type { Context } from '../context';
import { decodeText, writeLine } from '../protocol';
import { parseRegistry } from '../registry';

export async function erase(ctx: Context, input: Buffer): Promise<number> {
  const registry = parseRegistry(decodeText(input) ?? '');
  if (!registry) return 0;
  try {
    await ctx.cache.remove(registry.host);
  } catch (err) {
    writeLine(`ecr-login: could not update the token cache: ${(err as Error).message}`);
    return 1;
  }
  ctx.logger.info('erased cached tokens', { host: registry.host });
  return 0;
}
