import { describe, expect, it } from 'vitest';
import { describeFailure, mayServeStale } from '../../src/aws/failure';
import type { Identity } from '../../src/identity';
import { parseRegistry, type Registry } from '../../src/registry';

const registry = parseRegistry('123456789012.dkr.ecr.us-west-2.amazonaws.com') as Registry;
const identity = { kind: 'env', label: 'environment', reason: '', fingerprint: 'f' } as Identity;
const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('failures', () => {
  it('calls only network errno codes network errors, and lets them fall back to a cached token', () => {
    const refused = errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443');
    expect(describeFailure(refused, registry, identity)).toContain('network error ECONNREFUSED');
    expect(mayServeStale(refused)).toBe(true);
  });

  it("reports this machine's own errors (a missing CA bundle) as they are, not as a passing fault", () => {
    const missing = errno('ENOENT', "ENOENT: no such file or directory, open '/etc/ca.pem'");
    const line = describeFailure(missing, registry, identity);
    expect(line).not.toContain('network error');
    expect(line).toContain("no such file or directory, open '/etc/ca.pem'");
    expect(mayServeStale(missing)).toBe(false);
  });

  it('counts unknown codes and DNS failures as passing (a cached token may stand in)', () => {
    for (const code of [
      'ETIMEOUT',
      'ESERVFAIL',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SOCKET_CONNECTION_TIMEOUT',
    ]) {
      expect(mayServeStale(errno(code, code))).toBe(true);
    }
  });

  it('never serves a cached token when AWS refused the identity', () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    expect(mayServeStale(denied)).toBe(false);
  });
});
