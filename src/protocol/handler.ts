/**
 * The credential-helper protocol in one place, after docker-credential-helpers' HandleCommand:
 * decode stdin, call the helper, and turn its answer or failure into stdout, stderr and an exit
 * code. A backend implements the four-method Helper and never writes or picks exit codes itself.
 */
import { asLine, type Output, writeJson, writeLine } from './output';
import {
  type Credentials,
  decodeText,
  InputTooLargeError,
  NO_SERVER_URL,
  NOT_FOUND,
  parseStorePayload,
} from './wire';

/** `get` has no credentials for this server URL; `reason`, when given, is told on stderr. */
export class NotFound extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? NOT_FOUND);
    this.name = 'NotFound';
  }
}

/** A refusal of `store` or `erase`: its message is the protocol's error line on stdout. */
export class HelperError extends Error {
  override name = 'HelperError';
}

export interface Helper {
  /** The credentials for a server URL (trimmed, never empty); throws NotFound. */
  get(serverUrl: string): Promise<Credentials>;
  store(credentials: Credentials): Promise<void>;
  /** Forget a server URL (trimmed, never empty); throws HelperError. */
  erase(serverUrl: string): Promise<void>;
  /** Server URL → user name, for every registry the helper would answer now. */
  list(): Promise<Record<string, string>>;
}

export type Action = 'get' | 'store' | 'erase' | 'list';
export const ACTIONS: readonly string[] = ['get', 'store', 'erase', 'list'];

export interface HandleOptions {
  /** Prefixes unexpected errors: `<program>: <message>`. */
  program: string;
  /** Told of every failure the helper did not expect (for the log, with its stack). */
  onUnexpected?: (err: unknown) => void;
}

function messageOf(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

async function get(helper: Helper, input: Buffer, out: Output, options: HandleOptions): Promise<number> {
  const key = decodeText(input)?.trim();
  if (key === '') {
    writeLine(NO_SERVER_URL, out);
    return 1;
  }
  try {
    if (key === undefined) throw new NotFound();
    writeJson(await helper.get(key), out);
    return 0;
  } catch (err) {
    // Docker fails the pull on any answer but this one, even for registries that are not ours.
    writeLine(NOT_FOUND, out);
    if (err instanceof NotFound) {
      if (err.reason) out.stderr(asLine(err.reason));
    } else {
      options.onUnexpected?.(err);
      out.stderr(asLine(`${options.program}: ${messageOf(err)}`));
    }
    return 1;
  }
}

async function store(helper: Helper, input: Buffer, out: Output, options: HandleOptions): Promise<number> {
  const text = decodeText(input);
  const payload = text === undefined ? undefined : parseStorePayload(text);
  if (!payload) {
    // Fixed text, not the redactor's business (it would take "Secret":"..." for a secret).
    out.stdout(
      `${options.program}: store expects {"ServerURL":"...","Username":"...","Secret":"..."} on stdin\n`,
    );
    return 1;
  }
  if (payload.ServerURL.trim() === '') {
    writeLine(NO_SERVER_URL, out);
    return 1;
  }
  return settle(() => helper.store(payload), out, options);
}

async function erase(helper: Helper, input: Buffer, out: Output, options: HandleOptions): Promise<number> {
  const text = decodeText(input);
  if (text === undefined) {
    writeLine(`${options.program}: erase expects a server URL as text on stdin`, out);
    return 1;
  }
  const key = text.trim();
  if (!key) {
    writeLine(NO_SERVER_URL, out);
    return 1;
  }
  return settle(() => helper.erase(key), out, options);
}

async function settle(work: () => Promise<void>, out: Output, options: HandleOptions): Promise<number> {
  try {
    await work();
    return 0;
  } catch (err) {
    if (!(err instanceof HelperError)) options.onUnexpected?.(err);
    writeLine(err instanceof HelperError ? err.message : `${options.program}: ${messageOf(err)}`, out);
    return 1;
  }
}

/**
 * Run one protocol action. `readInput` is called only by the actions that take stdin (`list`
 * must not wait on a terminal); a failure to read is answered like any other failure.
 */
export async function handle(
  helper: Helper,
  action: Action,
  readInput: () => Buffer,
  out: Output,
  options: HandleOptions,
): Promise<number> {
  if (action === 'list') {
    return settle(async () => writeJson(await helper.list(), out), out, options);
  }
  let input: Buffer;
  try {
    input = readInput();
  } catch (err) {
    if (action === 'get') {
      writeLine(NOT_FOUND, out);
      // A runaway pipe is not worth a line (or a logged stack) on every pull.
      if (err instanceof InputTooLargeError) return 1;
      out.stderr(asLine(`${options.program}: ${messageOf(err)}`));
    } else {
      writeLine(`${options.program}: ${messageOf(err)}`, out);
    }
    options.onUnexpected?.(err);
    return 1;
  }
  if (action === 'get') return get(helper, input, out, options);
  if (action === 'store') return store(helper, input, out, options);
  return erase(helper, input, out, options);
}
