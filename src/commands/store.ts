/**
 * `store`: for an ECR registry, accepted and not persisted. ECR tokens are derived from AWS
 * credentials, so there is nothing worth keeping from `docker login`; answering success lets
 * `docker login <ecr-host>` work where the Go helper answers "not implemented". For any other
 * registry (a `credsStore` user logging in to Docker Hub) it refuses, so that docker says the login
 * was not saved instead of reporting a success that later pulls would not honour.
 */
import type { Context } from '../context';
import { decodeText, NO_SERVER_URL, parseStorePayload, writeLine } from '../protocol';
import { parseRegistry } from '../registry';

export function store(ctx: Context, input: Buffer): number {
  const text = decodeText(input);
  const payload = text === undefined ? undefined : parseStorePayload(text);
  if (payload?.ServerURL.trim() === '') {
    writeLine(NO_SERVER_URL);
    return 1;
  }
  if (ctx.settings.ignoreCredsStorage) {
    // As the Go helper does: `docker login` to any registry reports success, nothing is kept.
    ctx.logger.info('store ignored: AWS_ECR_IGNORE_CREDS_STORAGE');
    return 0;
  }
  if (!payload) {
    writeLine('ecr-login: store expects {"ServerURL":"...","Username":"...","Secret":"..."} on stdin');
    return 1;
  }
  const server = payload.ServerURL.slice(0, 200);
  if (!parseRegistry(payload.ServerURL)) {
    writeLine(
      `ecr-login keeps no passwords, and ${server} is not an ECR registry: route only ECR hosts to it ` +
        `with credHelpers and leave credsStore to a store that keeps logins`,
    );
    return 1;
  }
  ctx.logger.info('store accepted without persisting: tokens come from AWS credentials', { server });
  return 0;
}
