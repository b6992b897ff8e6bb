// Makes the V8 code cache that a single executable carries for its SDK bundle. scripts/sea.mjs
// bundles this file and runs it with the very Node the executable embeds (the other architecture's
// under qemu-user):
//
//   node sea-code-cache.cjs <dist/aws-sdk.cjs> <output file>
//
// It loads the bundle as the executable will (src/embedded.ts), then runs real cache misses through
// it against the loopback fakes: static keys over HTTPS with AWS_CA_BUNDLE, an ECS task role
// through an HTTPS proxy, an instance profile (IMDSv2), and ECR Public. V8 then holds compiled code
// for every function those misses ran, and the cache written keeps it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheFile, loadBundle } from '../src/embedded';
import type * as Aws from '../src/aws';
import type { Logger } from '../src/log';
import { parseRegistry } from '../src/registry';
import {
  makeTestCa,
  startConnectProxy,
  startFakeEcr,
  startFakeEcsCredentials,
  startFakeImds,
} from '../test/fakes';

const KEYS = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000001',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function main([bundlePath, outPath]: string[]) {
  if (!bundlePath || !outPath) throw new Error('usage: sea-code-cache.cjs <bundle> <output>');
  const source = readFileSync(bundlePath, 'latin1');
  const loaded = loadBundle(source, 'aws-sdk.cjs', require);
  const { fetchToken } = loaded.exports as typeof Aws;

  const home = mkdtempSync(join(tmpdir(), 'ecr-login-code-cache-'));
  const ca = await makeTestCa(home, ['localhost', 'api.ecr.us-west-2.amazonaws.com']);
  const ecr = await startFakeEcr({
    tls: { key: ca.key, cert: ca.cert },
    credentials: { [KEYS.AWS_ACCESS_KEY_ID]: KEYS.AWS_SECRET_ACCESS_KEY },
  });
  const proxy = await startConnectProxy({ upstream: { port: ecr.port } });
  const ecs = await startFakeEcsCredentials();
  const imds = await startFakeImds();
  const base = {
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_CA_BUNDLE: ca.caCertPath,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const direct = { AWS_ENDPOINT_URL_ECR: `https://localhost:${ecr.port}` };
  const misses: [string, NodeJS.ProcessEnv][] = [
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com', { ...KEYS, ...direct }],
    [
      '123456789012.dkr.ecr.us-west-2.amazonaws.com',
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: ecs.url, HTTPS_PROXY: proxy.url },
    ],
    [
      '123456789012.dkr.ecr.us-west-2.amazonaws.com',
      { AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, ...direct },
    ],
    ['public.ecr.aws', { ...KEYS, AWS_ENDPOINT_URL_ECR_PUBLIC: `https://localhost:${ecr.port}` }],
  ];
  try {
    for (const [host, extra] of misses) {
      // The SDK's credential providers read process.env itself.
      const env = { PATH: process.env.PATH, ...base, ...extra };
      process.env = env;
      const signal = new AbortController().signal;
      const options = { env, logger: quiet, signal, connectTimeoutMs: 10_000, timeoutMs: 60_000 };
      const token = await fetchToken(parseRegistry(host)!, options);
      if (token.username !== 'AWS') throw new Error(`${host}: unexpected token user ${token.username}`);
    }
    if (ecr.calls.length !== misses.length || !ecr.calls.every((c) => c.verified))
      throw new Error(`expected ${misses.length} signed ECR calls, got ${JSON.stringify(ecr.calls)}`);
    writeFileSync(outPath, cacheFile(loaded, source));
  } finally {
    await Promise.all([ecr.close(), proxy.close(), ecs.close(), imds.close()]);
    rmSync(home, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`sea-code-cache: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
