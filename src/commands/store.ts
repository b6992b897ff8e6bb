/**
 * `store`: for an ECR registry, accepted and not persisted. ECR tokens are derived from AWS
 * credentials, so there is nothing worth keeping from `docker login`; answering success lets
 * `docker login <ecr-host>` work where the Go helper answers "not implemented". For any other
 * registry (a `credsStore` user logging in to Docker Hub) it refuses, so that docker says the login
 * was not saved instead of reporting a success that later pulls would not honour.
 */
import type { Context } from '../context';
import { decodeText, parseStorePayload, writeLine } from '../protocol';
import { parseRegistry } from '../registry';

export function store(ctx: Context, input: Buffer): number {
  const text = decodeText(input);
  const payload = text === undefined ? undefined : parseStorePayload(text);
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
