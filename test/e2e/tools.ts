/** Where the e2e tests find the real tools they drive; CI installs them (`.ci/run`). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The docker CLI the e2e tests drive (client 28.2.2), not the older one apt's docker.io brings. */
export const DOCKER = '/usr/local/bin/docker';

/**
 * Where a test needs a docker CLI but not that version: apt's docker.io brings its own
 * /usr/bin/docker, so a machine with the daemon always has one.
 */
export function anyDockerCli(): string | undefined {
  return findTool(DOCKER) ?? findTool('docker');
}

export function findTool(name: string): string | undefined {
  if (name.startsWith('/')) return existsSync(name) ? name : undefined;
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The tools from `names` that are missing, for a skip reason. */
export function missingTools(names: string[]): string[] {
  return names.filter((name) => findTool(name) === undefined);
}
