/**
 * `list`: the registries whose cached token this environment would be served, from the cache
 * alone: an entry counts when it was fetched by the identity that signs for its registry now.
 */
import { freshness } from '../cache/entry';
import { identityFor, type Context } from '../context';
import { parseRegistry } from '../registry';

export async function list(ctx: Context): Promise<Record<string, string>> {
  const registries: Record<string, string> = {};
  const identityByHost = new Map<string, string | undefined>();
  const signerOf = (host: string) => {
    if (!identityByHost.has(host)) {
      const registry = parseRegistry(host);
      let fingerprint: string | undefined;
      try {
        if (registry) fingerprint = identityFor(ctx, registry).fingerprint;
      } catch (err) {
        ctx.logger.warn('list: skipping a registry whose identity mapping is invalid', {
          host,
          reason: (err as Error).message,
        });
      }
      identityByHost.set(host, fingerprint);
    }
    return identityByHost.get(host);
  };
  for (const { identity, entry } of ctx.cache.entries()) {
    if (!entry.anonymous && identity === signerOf(entry.host) && freshness(entry) !== 'expired') {
      registries[`https://${entry.host}`] = entry.username;
    }
  }
  return registries;
}
