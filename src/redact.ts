/**
 * The one redactor: every output but the protocol answer (stderr, the log at every level, doctor
 * text and JSON) passes through `redact`. Patterns catch what looks like a secret; the secrets the
 * process actually knows (keys from the environment or the credentials file, the container
 * authorization token, a fetched ECR password) are replaced literally, whatever their length.
 */

/**
 * The known secrets live on globalThis: the npm build loads src/ecr.ts from a bundle of its own,
 * with its own copy of this module, and a password it learns must still be hidden by the entry's.
 */
const REGISTRY = Symbol.for('ecr-login.known-secrets');
type Holder = { [REGISTRY]?: Set<string> };

function knownSecrets(): Set<string> {
  const holder = globalThis as Holder;
  return (holder[REGISTRY] ??= new Set());
}

/** Shorter values would blank out ordinary words; no real secret is this short. */
const MIN_SECRET_LENGTH = 6;

/** Remember a secret value so that no output ever shows it. */
export function addSecret(value: string | undefined): void {
  const secret = value?.trim();
  if (!secret || secret.length < MIN_SECRET_LENGTH) return;
  knownSecrets().add(secret);
}

/** Environment variables whose values are secrets (the SDK's names). */
const SECRET_VARIABLES = [
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
];

export function addSecretsFromEnv(env: NodeJS.ProcessEnv): void {
  for (const name of SECRET_VARIABLES) addSecret(env[name]);
}

/**
 * A `credential_process` command line: its arguments may carry a secret (a vault token, a
 * password), so they are hidden and the program name stays readable.
 */
/** A bare option name (`--profile`) tells nothing; hiding it would only garble messages. */
const FLAG = /^--?[\w-]+$/;

export function addCommandArguments(command: string): void {
  const [, ...args] = command.trim().split(/\s+/);
  if (args.length === 0) return;
  addSecret(args.join(' '));
  for (const arg of args) if (!FLAG.test(arg)) addSecret(arg);
}

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** A URL without its userinfo and with every query value hidden (tokens travel there). */
function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1[redacted]@')
    .replace(/([?&][^=&#]*)=[^&#)]*/g, '$1=[redacted]');
}

const SECRET_PATTERNS: [RegExp, string][] = [
  // a registry key or proxy given as user:password@host without a scheme
  [/(^|[\s"'=(])[^\s"'@/:=(]+:[^\s"'@/]+@(?=[\w.-])/g, '$1[redacted]@'],
  // base64("AWS:...") is how every ECR token starts
  [/QVdTO[A-Za-z0-9+/=]{8,}/g, '[ecr-token]'],
  // session tokens and other long opaque blobs
  [/[A-Za-z0-9+/=]{100,}/g, '[redacted]'],
  // secret access keys are 40 characters of base64 alphabet
  [/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g, '[redacted]'],
  // a value (never a JSON object or array) given to a secret-sounding name
  [/((?:secret|password|token|authorization)["']?\s*[:=]\s*["']?)(?=[^\s{[])[^\s"',}]+/gi, '$1[redacted]'],
];

export function redact(text: string): string {
  let out = text;
  // Longest first, so that a secret containing another one is hidden whole.
  const secrets = [...knownSecrets()].sort((a, b) => b.length - a.length);
  for (const secret of secrets) {
    out = out.split(secret).join('[redacted]');
  }
  out = out.replace(URL_PATTERN, redactUrl);
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
