import pkg from '../../package.json';
import { writeLine } from '../protocol';

export const BINARY = 'docker-credential-ecr-login';

/** Tells this helper from the Go one, which has the same executable name. */
const PROJECT = 'ecr-login';

export function versionLine(): string {
  return `${BINARY} (${PROJECT}) ${pkg.version}`;
}

export function version(): number {
  writeLine(versionLine());
  return 0;
}
