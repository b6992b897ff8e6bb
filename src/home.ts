/**
 * The user's home directory, found the way the AWS SDK and docker find it: $HOME, else the passwd
 * entry. A container run with `--user 4242` has neither, and that must cost the things kept under
 * home (cache, log, ~/.aws files), never the answer: so "no home" is a value here, not an exception.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function homeDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HOME) return env.HOME;
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `~` or a leading `~/` replaced by the home directory; undefined when the path needs a home and
 * there is none. Other paths come back as given.
 */
export function expandHome(path: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (path !== '~' && !path.startsWith('~/')) return path;
  const home = homeDir(env);
  return home === undefined ? undefined : join(home, path.slice(1));
}

/**
 * The AWS SDK's ini, SSO and process providers call os.homedir(), which throws for a uid with no
 * passwd entry when HOME is unset; that error ends the whole credential chain, container and
 * instance credentials included. With no home at all, the SDK gets one that does not exist (the
 * passwd convention for system users): its shared files are then absent, which is the truth.
 */
export function giveSdkAHome(env: NodeJS.ProcessEnv = process.env): void {
  if (homeDir(env) === undefined) env.HOME = '/nonexistent';
}
