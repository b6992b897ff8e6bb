/** This helper as the protocol layer sees it: the four actions, bound to one context. */
import type { Context } from '../context';
import type { Helper } from '../protocol';
import { erase } from './erase';
import { get } from './get';
import { list } from './list';
import { store } from './store';

export function ecrHelper(ctx: Context): Helper {
  return {
    get: (serverUrl) => get(ctx, serverUrl),
    store: (credentials) => store(ctx, credentials),
    erase: (serverUrl) => erase(ctx, serverUrl),
    list: () => list(ctx),
  };
}
