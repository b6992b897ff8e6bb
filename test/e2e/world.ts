/**
 * What every end-to-end test stands on: a throwaway HOME with the helper on PATH, AWS credentials
 * from the fake ECS container endpoint, and the fake ECR (and ECR Public) reached through the
 * SDK's service-specific endpoint variables. Nothing leaves 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeEcr, startFakeEcsCredentials, type FakeEcr, type FakeEcsCredentials } from '../fakes';
import { runProcess, Sandbox } from '../support/helper';

export interface World {
  sandbox: Sandbox;
  ecs: FakeEcsCredentials;
  ecr: FakeEcr;
  /** The helper's environment: credentials from the fake ECS endpoint, both ECR endpoints faked. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Every secret the test could leak: the AWS secret key, the session token, issued passwords. */
  secrets(): string[];
  /** Hosts the helper's token cache holds an entry for, read from its file. */
  cachedHosts(): string[];
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const sandbox = new Sandbox();
  const ecs = await startFakeEcsCredentials();
  // The fake verifies the SigV4 signature with the secret the ECS endpoint hands out, so a call
  // marked `verified` proves the helper signed with the container credentials.
  const ecr = await startFakeEcr({
    credentials: { [ecs.credentials.AccessKeyId]: ecs.credentials.SecretAccessKey },
  });
  return {
    sandbox,
    ecs,
    ecr,
    env: (extra = {}) =>
      sandbox.env({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url,
        AWS_ENDPOINT_URL_ECR: ecr.url,
        AWS_ENDPOINT_URL_ECR_PUBLIC: ecr.url,
        ...extra,
      }),
    secrets: () => [
      ecs.credentials.SecretAccessKey,
      ecs.credentials.Token,
      ...ecr.calls.flatMap((call) => call.passwords),
    ],
    cachedHosts: () => {
      let text: string;
      try {
        text = readFileSync(join(sandbox.cacheDir, 'token-cache.json'), 'utf8');
      } catch {
        return [];
      }
      const file = JSON.parse(text) as { entries?: Record<string, { host: string }> };
      return Object.values(file.entries ?? {}).map((entry) => entry.host);
    },
    close: async () => {
      await Promise.all([ecr.close(), ecs.close()]);
      sandbox.cleanup();
    },
  };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<Run> {
  const { status, stdout, stderr } = await runProcess(command, args, options);
  return { code: status, stdout, stderr };
}
