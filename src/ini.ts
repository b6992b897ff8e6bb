/**
 * The AWS shared config and credentials files, read the way the SDK for JavaScript reads them
 * (@smithy/core's parseIni and loadSharedConfigFiles), so that the identity fingerprint names the
 * profile the SDK will actually sign with. Where the two disagreed, one identity's token could be
 * served to another.
 */
import { join } from 'node:path';
import { expandHome, homeDir } from './home';
import { addCommandArguments, addSecret } from './redact';
import { readSdkFile } from './aws/sdk-files';

export type Sections = Map<string, Record<string, string>>;

/** `[prefix name]` or `[prefix "name"]`: the SDK's section grammar, names included. */
const PREFIXED_SECTION = /^([\w-]+)\s(["'])?([\w-@+.%:/]+)\2$/;
const KNOWN_PREFIXES = new Set(['profile', 'sso-session', 'services']);

/**
 * Section name (`profile.x`, `sso-session.y`, or a bare name as written) → key → value. Comments start at `#` or `;` at the start of a line or after white
 * space. A key with an empty value opens a sub-section whose indented keys are stored as
 * `parent.key`. Keys keep their case. Prefixed sections with an unknown prefix are dropped.
 */
export function parseIni(text: string): Sections {
  const sections: Sections = new Map();
  let current: string | undefined;
  let subSection: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.split(/(^|\s)[;#]/)[0].trim();
    if (line.startsWith('[') && line.endsWith(']')) {
      const name = line.slice(1, -1);
      const prefixed = PREFIXED_SECTION.exec(name);
      current = prefixed
        ? KNOWN_PREFIXES.has(prefixed[1])
          ? `${prefixed[1]}.${prefixed[3]}`
          : undefined
        : name;
      subSection = undefined;
      continue;
    }
    if (current === undefined) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === '') {
      subSection = key;
      continue;
    }
    if (subSection && raw.trimStart() === raw) subSection = undefined;
    const values = sections.get(current) ?? {};
    values[subSection ? `${subSection}.${key}` : key] = value;
    sections.set(current, values);
  }
  return sections;
}

function sharedFile(variable: string | undefined, name: string, env: NodeJS.ProcessEnv): string {
  const home = homeDir(env);
  // No home at all (a container user without a passwd entry): the default files do not exist.
  const path = variable ? expandHome(variable, env) : home && join(home, '.aws', name);
  return path ?? '';
}

/** As the SDK resolves them: the variable, with a leading `~/` expanded, or the default; '' when there is no home. */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  return sharedFile(env.AWS_CONFIG_FILE, 'config', env);
}

export function credentialsFilePath(env: NodeJS.ProcessEnv): string {
  return sharedFile(env.AWS_SHARED_CREDENTIALS_FILE, 'credentials', env);
}

/** Whatever a profile holds that must never be shown: keys, session tokens, credential_process arguments. */
function hideSecrets(profile: Record<string, string>): void {
  addSecret(profile.aws_secret_access_key);
  addSecret(profile.aws_session_token);
  addSecret(profile.aws_security_token);
  if (profile.credential_process) addCommandArguments(profile.credential_process);
}

export interface SharedConfig {
  profiles: Map<string, Record<string, string>>;
  ssoSessions: Map<string, Record<string, string>>;
}

/**
 * Profiles as the SDK merges them: `[profile x]` or `[default]` in the config file, `[x]` in the
 * credentials file, the credentials file winning key by key.
 */
export function loadSharedConfig(env: NodeJS.ProcessEnv): SharedConfig {
  const profiles = new Map<string, Record<string, string>>();
  const ssoSessions = new Map<string, Record<string, string>>();
  // The config file's `[profile default]` replaces its `[default]` whole, as in the SDK.
  const config = parseIni(readSdkFile(configFilePath(env), 'the AWS config file'));
  if (config.has('default')) profiles.set('default', config.get('default')!);
  for (const [name, values] of config) {
    if (name.startsWith('profile.')) profiles.set(name.slice('profile.'.length), values);
    else if (name.startsWith('sso-session.')) ssoSessions.set(name.slice('sso-session.'.length), values);
  }
  for (const [name, values] of parseIni(readSdkFile(credentialsFilePath(env), 'the AWS credentials file'))) {
    profiles.set(name, { ...profiles.get(name), ...values });
  }
  for (const profile of profiles.values()) hideSecrets(profile);
  return { profiles, ssoSessions };
}
