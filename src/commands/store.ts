/**
 * `store`: accepted and not persisted. ECR tokens are derived from AWS credentials, so there is
 * nothing worth keeping from `docker login`; answering success lets `docker login <ecr-host>` work
 * where the Go helper answers "not implemented".
 */
import type { Context } from '../context';
import { decodeText, parseStorePayload, writeLine } from '../protocol';

export function store(ctx: Context, input: Buffer): number {
  const text = decodeText(input);
  const payload = text === undefined ? undefined : parseStorePayload(text);
  if (!payload) {
    writeLine('ecr-login: store expects {"ServerURL":"...","Username":"...","Secret":"..."} on stdin');
    return 1;
  }
  ctx.logger.info('store accepted without persisting: tokens come from AWS credentials', {
    server: payload.ServerURL.slice(0, 200),
  });
  return 0;
}
