// Throwaway certificate authority for TLS tests, made with the openssl CLI so nothing is vendored.
// The server certificate carries the real AWS host names, so a client that believes it is talking
// to ECR (through the CONNECT proxy) verifies the fake against this CA (AWS_CA_BUNDLE).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Endpoint names the SDK in this repository (v3.11xx) resolves for ECR, ECR Public and STS in the
 * given regions, as recorded through the CONNECT proxy: regional `api.ecr.R.amazonaws.com`, FIPS
 * `api.ecr-fips.R.amazonaws.com`, dual-stack `ecr.R.api.aws`, FIPS + dual-stack `ecr-fips.R.api.aws`.
 */
export function awsEndpointHosts(regions: string[]): string[] {
  return regions.flatMap((r) => [
    `api.ecr.${r}.amazonaws.com`,
    `api.ecr-fips.${r}.amazonaws.com`,
    `ecr.${r}.api.aws`,
    `ecr-fips.${r}.api.aws`,
    `sts.${r}.amazonaws.com`,
    `sts-fips.${r}.amazonaws.com`,
  ]);
}

export const DEFAULT_TEST_HOSTS = [
  ...awsEndpointHosts(['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1']),
  // ECR Public's API lives in us-east-1 only.
  'api.ecr-public.us-east-1.amazonaws.com',
  'api.ecr-public-fips.us-east-1.amazonaws.com',
  'ecr-public.us-east-1.api.aws',
  'api.ecr-public-fips.us-east-1.api.aws',
  // The form other clients (and older SDKs) use for ECR FIPS.
  'ecr-fips.us-east-1.amazonaws.com',
  'sts.amazonaws.com',
  '*.amazonaws.com',
  'localhost',
  '127.0.0.1',
];

export interface TestCa {
  /** CA certificate; this file works as AWS_CA_BUNDLE or NODE_EXTRA_CA_CERTS. */
  caCertPath: string;
  caCert: string;
  certPath: string;
  cert: string;
  keyPath: string;
  key: string;
  hosts: string[];
}

/**
 * A wildcard SAN covers exactly one label: `*.amazonaws.com` matches `sts.amazonaws.com` but not
 * `api.ecr.us-west-2.amazonaws.com`, so list every exact endpoint name a test connects to.
 */
export async function makeTestCa(dir: string, hosts: string[] = DEFAULT_TEST_HOSTS): Promise<TestCa> {
  const caKeyPath = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'server.key');
  const csrPath = join(dir, 'server.csr');
  const certPath = join(dir, 'server.pem');
  const extPath = join(dir, 'server.ext');
  // P-256 keys: generation is instant, unlike RSA, which keeps the suite fast.
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  // prettier-ignore
  await run('openssl', [
    'req', '-x509', ...ecKey, '-keyout', caKeyPath, '-out', caCertPath, '-days', '2',
    '-subj', '/CN=ecr-login throwaway test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', [
    'req',
    '-new',
    ...ecKey,
    '-keyout',
    keyPath,
    '-out',
    csrPath,
    '-subj',
    `/CN=${hosts[0]}`,
  ]);
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  await writeFile(
    extPath,
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  // prettier-ignore
  await run('openssl', [
    'x509', '-req', '-in', csrPath, '-CA', caCertPath, '-CAkey', caKeyPath, '-set_serial', `0x${Date.now().toString(16)}`,
    '-days', '2', '-sha256', '-extfile', extPath, '-out', certPath,
  ]);

  return {
    caCertPath,
    caCert: await readFile(caCertPath, 'utf8'),
    certPath,
    cert: await readFile(certPath, 'utf8'),
    keyPath,
    key: await readFile(keyPath, 'utf8'),
    hosts,
  };
}
