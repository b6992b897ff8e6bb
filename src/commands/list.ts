/** `list`: the registries this identity holds usable tokens for, from the cache alone. */
import { freshness } from '../cache/entry';
import type { Context } from '../context';
import { resolveIdentity } from '../identity';
import { writeJson } from '../protocol';

export function list(ctx: Context): number {
  const identity = resolveIdentity(ctx.env);
  const registries: Record<string, string> = {};
  for (const entry of ctx.cache.list(identity.fingerprint)) {
    if (freshness(entry) !== 'expired') registries[`https://${entry.host}`] = entry.username;
  }
  writeJson(registries);
  return 0;
}
