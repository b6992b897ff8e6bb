/**
 * The docker-credential-helpers wire format: what comes in on stdin, the fixed answers, and the
 * shapes of what goes out. Knows nothing of AWS.
 */
import { readSync } from 'node:fs';

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
