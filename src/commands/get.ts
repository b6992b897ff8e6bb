/** `get`: a registry key on stdin, credentials on stdout, from the cache or a fresh ECR token. */
import { freshness, type CacheEntry } from '../cache/entry';
import { identityFor, type Context } from '../context';
import { loadEcr } from '../lazy';
import { BudgetExceededError, describeFailure, mayServeStale, type Stage } from '../failure';
import type { Identity } from '../identity';
import { decodeText, NOT_FOUND, tellUser, writeCredentials, writeLine } from '../protocol';
import { parseRegistry, type Registry } from '../registry';
import { checkSdkFiles } from '../sdk-files';

function notFound(): number {
  writeLine(NOT_FOUND);
  return 1;
}

function answer(serverUrl: string, entry: CacheEntry): number {
  if (entry.anonymous) return notFound();
  writeCredentials({ ServerURL: serverUrl, Username: entry.username, Secret: entry.password });
  return 0;
}

/** How long an ECR Public pull stays anonymous after finding no AWS credentials at all. */
const ANONYMOUS_MS = 10 * 60_000;

/** Where a `get` is in its work, so that a timeout can say what hung. */
interface Progress {
  stage: Stage;
}

async function fetchEntry(
  ctx: Context,
  registry: Registry,
  identity: Identity,
  deadline: number,
  progress: Progress,
): Promise<CacheEntry> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw new BudgetExceededError(ctx.settings.timeoutMs, progress.stage);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new BudgetExceededError(ctx.settings.timeoutMs, progress.stage)),
    remaining,
  );
  try {
    checkSdkFiles(ctx.env);
    const { fetchToken } = loadEcr(ctx.stateDir);
    const token = await fetchToken(
      registry,
      {
        env: ctx.env,
        logger: ctx.logger,
        signal: controller.signal,
        connectTimeoutMs: Math.min(ctx.settings.connectTimeoutMs, remaining),
        timeoutMs: remaining,
        mapping: identity.mapping,
      },
      (phase) => (progress.stage = phase),
    );
    return { host: registry.host, service: registry.service, ...token };
  } catch (err) {
    throw controller.signal.aborted ? controller.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}

async function refresh(
  ctx: Context,
  registry: Registry,
  identity: Identity,
  deadline: number,
  progress: Progress,
) {
  const { cache, logger } = ctx;
  const isFresh = () => {
    const entry = cache.get(identity.fingerprint, registry.host);
    return !!entry && freshness(entry) === 'fresh';
  };
  const fetched = await cache.singleFlight(identity.fingerprint, registry.host, isFresh, async () => {
    logger.info('fetching token', { host: registry.host, identity: identity.label });
    const started = Date.now();
    const entry = await fetchEntry(ctx, registry, identity, deadline, progress);
    logger.info('fetched token', {
      host: registry.host,
      ms: Date.now() - started,
      expiresAt: new Date(entry.expiresAt).toISOString(),
    });
    try {
      await cache.put(identity.fingerprint, entry);
    } catch (err) {
      logger.warn('could not write the token cache', { reason: (err as Error).message });
    }
    return entry;
  });
  // undefined: another process fetched it while we waited, and the cache now holds it.
  return fetched ?? cache.get(identity.fingerprint, registry.host);
}

/** Settle by the deadline whatever `work` does: a credential provider may ignore abort signals. */
function withDeadline<T>(work: Promise<T>, deadline: number, timeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout()), Math.max(0, deadline - Date.now()));
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

export async function get(ctx: Context, input: Buffer): Promise<number> {
  const key = decodeText(input)?.trim();
  const registry = key ? parseRegistry(key) : undefined;
  if (!key || !registry) {
    ctx.logger.debug('not an ECR registry', { key: key?.slice(0, 200) });
    return notFound();
  }
  const deadline = Date.now() + ctx.settings.timeoutMs;
  let identity: Identity;
  try {
    identity = identityFor(ctx, registry);
  } catch (err) {
    const line = `ecr-login: no token for ${registry.host}: ${(err as Error).message}`;
    ctx.logger.error(line);
    tellUser(line);
    return notFound();
  }
  const cached = ctx.cache.get(identity.fingerprint, registry.host);
  if (cached && freshness(cached) === 'fresh') {
    ctx.logger.debug(cached.anonymous ? 'cache hit: anonymous' : 'cache hit', {
      host: registry.host,
      identity: identity.label,
    });
    return answer(key, cached);
  }

  try {
    const progress: Progress = { stage: 'lock' };
    const entry = await withDeadline(
      refresh(ctx, registry, identity, deadline, progress),
      deadline,
      () => new BudgetExceededError(ctx.settings.timeoutMs, progress.stage),
    );
    if (entry && freshness(entry) !== 'expired') return answer(key, entry);
    throw new BudgetExceededError(ctx.settings.timeoutMs, progress.stage);
  } catch (err) {
    const stale = ctx.cache.get(identity.fingerprint, registry.host);
    const line = describeFailure(err, registry, identity);
    if (stale && !stale.anonymous && freshness(stale) === 'stale' && mayServeStale(err)) {
      ctx.logger.warn('refresh failed; serving the cached token until it expires', {
        host: registry.host,
        expiresAt: new Date(stale.expiresAt).toISOString(),
        reason: line,
      });
      return answer(key, stale);
    }
    // ECR Public serves anonymous pulls: with no AWS credentials at all, going anonymous is the
    // expected outcome, not an error worth a line on every pull.
    if (registry.service === 'ecr-public' && (err as Error)?.name === 'CredentialsProviderError') {
      ctx.logger.info('no AWS credentials: pulled anonymously for the next minutes', { host: registry.host });
      const now = Date.now();
      const anonymous = { host: registry.host, service: registry.service, username: '', password: '' };
      await ctx.cache
        .put(identity.fingerprint, {
          ...anonymous,
          issuedAt: now,
          expiresAt: now + 2 * ANONYMOUS_MS,
          anonymous: true,
        })
        .catch(() => {});
      return notFound();
    }
    ctx.logger.error(line, { error: (err as Error)?.name });
    tellUser(line);
    return notFound();
  }
}
