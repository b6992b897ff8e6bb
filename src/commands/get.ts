/**
 * `get`: the credentials for a registry key, from the cache or a fresh ECR token. Not found (with
 * the reason for the user, when there is one) for anything else; the protocol layer answers.
 */
import { canServeStale, inBackoff, recordFailure } from '../cache/backoff';
import { freshness, type CacheEntry } from '../cache/entry';
import { codeCacheRoot, identityFor, type Context } from '../context';
import { loadAws } from '../lazy';
import { BudgetExceededError, describeFailure, mayServeStale, type Stage } from '../aws/failure';
import type { Identity } from '../identity';
import { type Credentials, NotFound } from '../protocol';
import { parseRegistry, type Registry } from '../registry';
import { checkSdkFiles } from '../aws/sdk-files';

function answer(serverUrl: string, entry: CacheEntry): Credentials {
  if (entry.anonymous) throw new NotFound();
  return { ServerURL: serverUrl, Username: entry.username, Secret: entry.password };
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
  const budgetSpent = () => new BudgetExceededError(ctx.settings.timeoutMs, progress.stage);
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw budgetSpent();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(budgetSpent()), remaining);
  try {
    checkSdkFiles(ctx.env);
    const { fetchToken } = loadAws(codeCacheRoot(ctx));
    // A credential provider may ignore the abort signal: the deadline holds regardless.
    const token = await withDeadline(
      fetchToken(
        registry,
        {
          env: ctx.env,
          logger: ctx.logger,
          signal: controller.signal,
          connectTimeoutMs: Math.min(ctx.settings.connectTimeoutMs, remaining),
          timeoutMs: remaining,
          mapping: identity.mapping,
          containerCredentials: identity.kind === 'container',
        },
        (phase) => (progress.stage = phase),
      ),
      deadline,
      budgetSpent,
    );
    return { host: registry.host, service: registry.service, ...token };
  } catch (err) {
    throw controller.signal.aborted ? controller.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}

/** ECR Public with no AWS credentials at all: the pull goes anonymous, which is no failure. */
function isAnonymousOutcome(registry: Registry, err: unknown): boolean {
  return registry.service === 'ecr-public' && (err as Error)?.name === 'CredentialsProviderError';
}

/** Another process's fetch of the same token failed while this one waited for it. */
class PeerFailedError extends Error {
  override name = 'PeerFailedError';
}

/**
 * Fetch as the one process doing so, or wait for the one that is. With a still-valid token in
 * hand nobody waits: if another process is refreshing it, the cached token is served at once.
 * A failed fetch is remembered: for the back-off, and so that its waiters report it instead of
 * each trying again in turn.
 */
async function refresh(
  ctx: Context,
  registry: Registry,
  identity: Identity,
  started: number,
  hardDeadline: number,
  progress: Progress,
): Promise<CacheEntry | undefined> {
  const { cache, logger } = ctx;
  const id = identity.fingerprint;
  const haveStale = canServeStale(cache.get(id, registry.host));
  const ready = () => {
    const entry = cache.get(id, registry.host);
    if (entry && freshness(entry) === 'fresh') return true;
    return (cache.failure(id, registry.host)?.failedAt ?? 0) >= started;
  };
  const fetch = async () => {
    progress.stage = 'credentials';
    logger.info('fetching token', { host: registry.host, identity: identity.label });
    const fetchStarted = Date.now();
    const deadline = Math.min(fetchStarted + ctx.settings.timeoutMs, hardDeadline);
    let entry: CacheEntry;
    try {
      entry = await fetchEntry(ctx, registry, identity, deadline, progress);
    } catch (err) {
      // ECR Public without credentials is about to be remembered as anonymous instead.
      if (isAnonymousOutcome(registry, err)) throw err;
      const cached = cache.get(id, registry.host);
      const failure = recordFailure(
        cache.failure(id, registry.host),
        cached,
        describeFailure(err, registry, identity),
        mayServeStale(err),
      );
      await cache.putFailure(id, registry.host, failure).catch((e: Error) => {
        logger.warn('could not record the failure in the cache', { reason: e.message });
      });
      throw err;
    }
    logger.info('fetched token', {
      host: registry.host,
      ms: Date.now() - fetchStarted,
      expiresAt: new Date(entry.expiresAt).toISOString(),
    });
    try {
      await cache.put(id, entry);
    } catch (err) {
      logger.warn('could not write the token cache', { reason: (err as Error).message });
    }
    return entry;
  };
  const waitMs = haveStale ? 0 : hardDeadline - Date.now();
  const fetched = await cache.singleFlight(id, registry.host, ready, fetch, waitMs);
  if (fetched) return fetched;
  // Another process fetched it, is refreshing a token we may still serve, or failed.
  const entry = cache.get(id, registry.host);
  if (entry && freshness(entry) !== 'expired') return entry;
  const failure = cache.failure(id, registry.host);
  if (failure && failure.failedAt >= started) throw new PeerFailedError(failure.reason);
  return undefined;
}

/** Settle by the deadline whatever `work` does: a credential provider may ignore abort signals. */
function withDeadline<T>(work: Promise<T>, deadline: number, timeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout()), Math.max(0, deadline - Date.now()));
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

export async function get(ctx: Context, key: string): Promise<Credentials> {
  const registry = parseRegistry(key);
  if (!registry) {
    ctx.logger.debug('not an ECR registry', { key: key.slice(0, 200) });
    throw new NotFound();
  }
  const started = Date.now();
  const hardDeadline = started + ctx.settings.hardCapMs;
  let identity: Identity;
  try {
    identity = identityFor(ctx, registry);
  } catch (err) {
    const line = `ecr-login: no token for ${registry.host}: ${(err as Error).message}`;
    ctx.logger.error(line);
    throw new NotFound(line);
  }
  const cached = ctx.cache.get(identity.fingerprint, registry.host);
  if (cached && freshness(cached) === 'fresh') {
    ctx.logger.debug(cached.anonymous ? 'cache hit: anonymous' : 'cache hit', {
      host: registry.host,
      identity: identity.label,
    });
    return answer(key, cached);
  }
  const failure = ctx.cache.failure(identity.fingerprint, registry.host);
  if (canServeStale(cached) && inBackoff(failure)) {
    ctx.logger.debug('refresh failed recently; serving the cached token until the back-off ends', {
      host: registry.host,
      retryAt: new Date(failure!.retryAt).toISOString(),
    });
    return answer(key, cached);
  }

  const progress: Progress = { stage: 'lock' };
  try {
    const entry = await withDeadline(
      refresh(ctx, registry, identity, started, hardDeadline, progress),
      hardDeadline,
      () => new BudgetExceededError(ctx.settings.hardCapMs, progress.stage),
    );
    if (entry && freshness(entry) !== 'expired') return answer(key, entry);
    throw new BudgetExceededError(ctx.settings.hardCapMs, progress.stage);
  } catch (err) {
    const stale = ctx.cache.get(identity.fingerprint, registry.host);
    const line = err instanceof PeerFailedError ? err.message : describeFailure(err, registry, identity);
    if (canServeStale(stale) && mayServeStale(err)) {
      ctx.logger.warn('refresh failed; serving the cached token until it expires', {
        host: registry.host,
        expiresAt: new Date(stale.expiresAt).toISOString(),
        reason: line,
      });
      return answer(key, stale);
    }
    // ECR Public serves anonymous pulls: with no AWS credentials at all, going anonymous is the
    // expected outcome, not an error worth a line on every pull.
    if (isAnonymousOutcome(registry, err)) {
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
      throw new NotFound();
    }
    ctx.logger.error(line, { error: (err as Error)?.name });
    throw new NotFound(line);
  }
}
