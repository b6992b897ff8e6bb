import pkg from '../../package.json';
import { writeLine } from '../protocol';

export const BINARY = 'docker-credential-ecr-login';

export function versionLine(): string {
  return `${BINARY} (${pkg.name}) ${pkg.version}`;
}

export function version(): number {
  writeLine(versionLine());
  return 0;
}
