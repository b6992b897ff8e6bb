/**
 * Files the AWS SDK reads by itself (shared config and credentials, web-identity and container
 * authorization token files, a CA bundle). The SDK opens them blocking: a FIFO or a device there
 * would hang it, and the helper with it, past any deadline. So they are read (by us) or checked
 * (before the SDK is loaded) with a non-blocking open that accepts regular files only.
 */
import { closeSync } from 'node:fs';
import { configFilePath, credentialsFilePath } from '../ini';
import { NotRegularFileError, openRegular, readRegularFile } from '../safe-fs';

/** Far larger than any real config or token file. */
const SDK_FILE_LIMIT = 16 * 1024 * 1024;

export class BlockingFileError extends Error {
  constructor(path: string, what: string) {
    super(`${path} (${what}) is not a regular file: the AWS SDK would wait on it forever; not using it`);
    this.name = 'BlockingFileError';
  }
}

/** The text of a file the SDK also reads; '' when it is absent or unreadable, as the SDK treats it. */
export function readSdkFile(path: string, what: string): string {
  if (!path) return '';
  try {
    return readRegularFile(path, { maxBytes: SDK_FILE_LIMIT, follow: true }).toString('utf8');
  } catch (err) {
    if (err instanceof NotRegularFileError) throw new BlockingFileError(path, what);
    return '';
  }
}

function sdkFiles(env: NodeJS.ProcessEnv): [string, string][] {
  const files: [string, string | undefined][] = [
    ['the AWS config file', configFilePath(env)],
    ['the AWS credentials file', credentialsFilePath(env)],
    ['AWS_WEB_IDENTITY_TOKEN_FILE', env.AWS_WEB_IDENTITY_TOKEN_FILE],
    ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE],
    ['AWS_CA_BUNDLE', env.AWS_CA_BUNDLE],
  ];
  return files.filter((file): file is [string, string] => !!file[1]);
}

/** Throws BlockingFileError for the first file the SDK would block on; call before loading the SDK. */
export function checkSdkFiles(env: NodeJS.ProcessEnv): void {
  for (const [what, path] of sdkFiles(env)) {
    let fd: number | undefined;
    try {
      fd = openRegular(path, { follow: true }).fd;
    } catch (err) {
      if (err instanceof NotRegularFileError) throw new BlockingFileError(path, what);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
