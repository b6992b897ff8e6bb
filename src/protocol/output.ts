/**
 * Where answers and messages go. The only module that touches stdout: docker parses the first JSON
 * value there, so nothing else may ever reach it. Every message passes the one redactor; only the
 * credentials answer itself (which must carry the secret) does not.
 */
import { redact } from '../redact';

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processOutput: Output = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A message as one redacted line: docker shows stdout's error line and stderr to the user. */
export function asLine(message: string): string {
  return (
    redact(message)
      .replace(/\s*\n\s*/g, ' ')
      .trim() + '\n'
  );
}

export function writeJson(value: unknown, out: Output = processOutput): void {
  out.stdout(JSON.stringify(value) + '\n');
}

/** One line on stdout: the protocol's error channel (docker shows it to the user). */
export function writeLine(message: string, out: Output = processOutput): void {
  out.stdout(asLine(message));
}

/** One line for the person at the terminal: docker passes the helper's stderr through. */
export function tellUser(line: string, out: Output = processOutput): void {
  out.stderr(asLine(line));
}

/** Multi-line text for people (operator commands); never used by the credential-helper actions. */
export function writeText(text: string, out: Output = processOutput): void {
  out.stdout(text.endsWith('\n') ? text : text + '\n');
}
