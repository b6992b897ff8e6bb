/** The operator commands, bundled apart from the credential-helper path (see src/lazy.ts). */
export { configure } from './configure';
export { doctor } from './doctor';
export { policy } from './policy';
