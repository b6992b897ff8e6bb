/**
 * AWS_CA_BUNDLE: certificates trusted on top of Node's default store, for every HTTPS connection
 * the SDK makes (ECR, STS, SSO; direct or through the proxy).
 *
 * Handing Node `ca: [...rootCertificates, bundle]` makes every secure context parse each bundled
 * root again from its PEM text: measured 34–50 ms on Node 20 (17–28 ms of it the default store,
 * which Node 20 parses for any secure context) and 5–9 ms on Node 22, where the default store plus
 * the bundle costs about 1 ms. So one context is made, from the default store, and the bundle is
 * added to its copy of that store. Verification is unchanged: the chain must lead to a trusted
 * certificate and the name must match. On Node 22 the default store also holds
 * NODE_EXTRA_CA_CERTS, which the old list dropped (Node 20's copy of it does not).
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

interface NativeContext {
  addCACert?(pem: string): void;
}

const contexts = new Map<string, SecureContext>();

function withBundle(pem: string): SecureContext {
  const secureContext = createSecureContext();
  const native = (secureContext as SecureContext & { context?: NativeContext }).context;
  // Node's own handle; copies the shared root store before adding (copy on write).
  if (typeof native?.addCACert === 'function') {
    native.addCACert(pem);
    return secureContext;
  }
  return createSecureContext({ ca: [...rootCertificates, pem] });
}

/** The secure context trusting the default store plus AWS_CA_BUNDLE, or undefined when unset. */
export function caBundleContext(env: NodeJS.ProcessEnv): SecureContext | undefined {
  const path = env.AWS_CA_BUNDLE;
  if (!path) return undefined;
  let context = contexts.get(path);
  if (!context) {
    context = withBundle(readFileSync(path, 'utf8'));
    contexts.set(path, context);
  }
  return context;
}
