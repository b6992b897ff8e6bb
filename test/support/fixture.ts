/**
 * The per-test setup the integration tests share: a fresh Sandbox, a fake ECR that verifies
 * signatures made with KEYS, and a list of servers to stop after the test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry';
import { resolveIdentity } from '../../src/identity';
import { startFakeEcr, type FakeEcr } from '../fakes';
import { issuedSecret } from '../fakes/issued-keys';
import { KEYS, REGISTRY, Sandbox } from './helper';
import { checkNoSecretsLeaked, rememberEcrPassword, rememberSecret } from './secrets';

export interface Fixture {
  box: Sandbox;
  ecr: FakeEcr;
  /** Stop this server after the test. */
  stopLater(close: () => Promise<void>): void;
  /** KEYS and the fake ECR endpoint, plus `extra`. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
}

export function useFixture(): Fixture {
  const closers: (() => Promise<void>)[] = [];
  const fixture = {
    stopLater: (close: () => Promise<void>) => {
      closers.push(close);
    },
    env: (extra: NodeJS.ProcessEnv = {}) =>
      fixture.box.env({ ...KEYS, AWS_ENDPOINT_URL_ECR: fixture.ecr.url, ...extra }),
  } as unknown as Fixture;
  beforeEach(async () => {
    fixture.box = new Sandbox();
    fixture.ecr = await startFakeEcr({
      credentials: { [KEYS.AWS_ACCESS_KEY_ID]: KEYS.AWS_SECRET_ACCESS_KEY },
    });
    closers.push(() => fixture.ecr.close());
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    try {
      for (const call of fixture.ecr.calls) {
        call.passwords.forEach(rememberEcrPassword);
        // The secret of whatever key signed it, when a fake credential source issued that key.
        rememberSecret(call.sessionToken, call.accessKeyId && issuedSecret(call.accessKeyId));
      }
      rememberSecret(KEYS.AWS_SECRET_ACCESS_KEY);
      checkNoSecretsLeaked([fixture.box.home]);
    } finally {
      fixture.box.cleanup();
    }
  });
  return fixture;
}

const HOUR = 3600_000;

/** Write a cache entry as the helper would have, issued `issuedHoursAgo` with a 12-hour lifetime. */
export function seedCache(
  box: Sandbox,
  env: NodeJS.ProcessEnv,
  issuedHoursAgo: number,
  password: string,
): void {
  const issuedAt = Date.now() - issuedHoursAgo * HOUR;
  const entry: CacheEntry = {
    host: REGISTRY,
    service: 'ecr',
    username: 'AWS',
    password,
    issuedAt,
    expiresAt: issuedAt + 12 * HOUR,
  };
  mkdirSync(box.cacheDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(box.cacheDir, 'token-cache.json'),
    JSON.stringify({
      format: 'ecr-login-cache/1',
      entries: { [`${resolveIdentity(env).fingerprint}/${REGISTRY}`]: entry },
    }),
  );
}
