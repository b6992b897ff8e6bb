/**
 * The docker-credential-helpers wire format. The only module that writes to stdout: docker parses
 * the first JSON value there, so nothing else may ever reach it.
 */
import { readSync } from 'node:fs';
import { redact } from './redact';

export const NOT_FOUND = 'credentials not found in native keychain';
/** docker-credential-helpers' answer to a get, store or erase with an empty server URL. */
export const NO_SERVER_URL = 'no credentials server URL';

/** Large enough for any registry key or store payload, small enough that a runaway pipe cannot hurt. */
export const STDIN_LIMIT = 64 * 1024;

export interface Credentials {
  ServerURL: string;
  Username: string;
  Secret: string;
}

export class InputTooLargeError extends Error {
  constructor() {
    super(`input larger than ${STDIN_LIMIT} bytes`);
  }
}

/**
 * Read stdin up to STDIN_LIMIT bytes. Synchronous on purpose: it is the fastest way to read a few
 * bytes at startup, and the helper has nothing else to do meanwhile.
 */
export function readStdin(fd = 0): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.allocUnsafe(16 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        waitBriefly();
        continue;
      }
      // A closed or absent stdin (EOF, EBADF, a TTY-less daemon) reads as empty input.
      if (code === 'EOF' || code === 'EBADF' || code === 'ENXIO' || code === 'EINVAL') break;
      throw err;
    }
    if (n === 0) break;
    total += n;
    if (total > STDIN_LIMIT) throw new InputTooLargeError();
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

function waitBriefly(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}

/** Text that could be a registry key or JSON: valid UTF-8 with no control characters but whitespace. */
export function decodeText(input: Buffer): string | undefined {
  const text = input.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(input)) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return undefined;
  return text;
}

export function writeCredentials(creds: Credentials): void {
  process.stdout.write(JSON.stringify(creds) + '\n');
}

export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** One line on stdout: the protocol's error channel (docker shows it to the user). */
export function writeLine(message: string): void {
  process.stdout.write(
    redact(message)
      .replace(/\s*\n\s*/g, ' ')
      .trim() + '\n',
  );
}

/** Parse the JSON that `store` receives; undefined when it is not the documented shape. */
export function parseStorePayload(text: string): Credentials | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.ServerURL !== 'string') return undefined;
  return {
    ServerURL: v.ServerURL,
    Username: typeof v.Username === 'string' ? v.Username : '',
    Secret: typeof v.Secret === 'string' ? v.Secret : '',
  };
}

/** One line for the person at the terminal: docker passes the helper's stderr through. */
export function tellUser(line: string): void {
  process.stderr.write(
    redact(line)
      .replace(/\s*\n\s*/g, ' ')
      .trim() + '\n',
  );
}

/** Multi-line text for people (operator commands); never used by the credential-helper actions. */
export function writeText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}
