/** Just enough of the AWS shared config/credentials file format to tell which profile signs. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Sections = Map<string, Record<string, string>>;

export function parseIni(text: string): Sections {
  const sections: Sections = new Map();
  let current: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\uFEFF/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]/.exec(trimmed);
    if (header) {
      current = sections.get(header[1]) ?? {};
      sections.set(header[1], current);
      lastKey = undefined;
      continue;
    }
    if (!current) continue;
    // Indented lines continue the previous key (nested settings such as `s3 =`).
    if (/^\s/.test(line) && lastKey) {
      current[lastKey] += '\n' + trimmed;
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (eq < 0) continue;
    lastKey = trimmed.slice(0, eq).trim().toLowerCase();
    current[lastKey] = trimmed.slice(eq + 1).trim();
  }
  return sections;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function configFilePath(env: NodeJS.ProcessEnv): string {
  return env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config');
}

export function credentialsFilePath(env: NodeJS.ProcessEnv): string {
  return env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials');
}

export interface SharedConfig {
  profiles: Map<string, Record<string, string>>;
  ssoSessions: Map<string, Record<string, string>>;
}

/**
 * Profiles as the SDK sees them: `[profile x]` (or `[default]`) in the config file, `[x]` in the
 * credentials file, the credentials file winning key by key.
 */
export function loadSharedConfig(env: NodeJS.ProcessEnv): SharedConfig {
  const profiles = new Map<string, Record<string, string>>();
  const ssoSessions = new Map<string, Record<string, string>>();
  for (const [name, values] of parseIni(readOptional(configFilePath(env)))) {
    const profile = /^profile\s+(.+)$/.exec(name);
    const sso = /^sso-session\s+(.+)$/.exec(name);
    if (profile) profiles.set(profile[1], { ...profiles.get(profile[1]), ...values });
    else if (sso) ssoSessions.set(sso[1], values);
    else if (name === 'default') profiles.set(name, { ...profiles.get(name), ...values });
  }
  for (const [name, values] of parseIni(readOptional(credentialsFilePath(env)))) {
    profiles.set(name, { ...profiles.get(name), ...values });
  }
  return { profiles, ssoSessions };
}
