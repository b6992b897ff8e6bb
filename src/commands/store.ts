/**
 * `store`: for an ECR registry, accepted and not persisted. ECR tokens are derived from AWS
 * credentials, so there is nothing worth keeping from `docker login`; answering success lets
 * `docker login <ecr-host>` work where the Go helper answers "not implemented". For any other
 * registry (a `credsStore` user logging in to Docker Hub) it refuses, so that docker says the login
 * was not saved instead of reporting a success that later pulls would not honour.
 */
import type { Context } from '../context';
import { type Credentials, HelperError } from '../protocol';
import { parseRegistry } from '../registry';

export async function store(ctx: Context, credentials: Credentials): Promise<void> {
  if (ctx.settings.ignoreCredsStorage) {
    // As the Go helper does: `docker login` to any registry reports success, nothing is kept.
    ctx.logger.info('store ignored: AWS_ECR_IGNORE_CREDS_STORAGE');
    return;
  }
  const server = credentials.ServerURL.slice(0, 200);
  if (!parseRegistry(credentials.ServerURL)) {
    throw new HelperError(
      `ecr-login keeps no passwords, and ${server} is not an ECR registry: route only ECR hosts to it ` +
        `with credHelpers and leave credsStore to a store that keeps logins`,
    );
  }
  ctx.logger.info('store accepted without persisting: tokens come from AWS credentials', { server });
}
