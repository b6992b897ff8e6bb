// Server-side AWS Signature Version 4 (header form), so the fakes can tell a correctly signed SDK
// request from one signed with the wrong secret, region or service. Written from the published
// algorithm: canonical request -> string to sign -> HMAC key chain.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SigV4Authorization {
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** `date/region/service/aws4_request`, as it appears in the string to sign. */
  scope: string;
}

/** What verifySigV4 needs from a request; an http.IncomingMessage fits. */
export interface SignedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  /** Preferred over `headers` when present: Node joins repeated headers with ", " but SigV4 wants ",". */
  rawHeaders?: string[];
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export function parseSigV4Authorization(header: string | undefined): SigV4Authorization | undefined {
  if (!header?.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) return undefined;
  // The access key id cannot contain '/', so the last four segments are always the scope.
  const parts = credential.split('/');
  if (parts.length < 5 || parts[parts.length - 1] !== 'aws4_request') return undefined;
  const [date, region, service] = parts.slice(-4);
  return {
    accessKeyId: parts.slice(0, -4).join('/'),
    date,
    region,
    service,
    signedHeaders: signedHeaders.split(';'),
    signature,
    scope: parts.slice(-4).join('/'),
  };
}

/**
 * Recomputes the signature of `req` with `secretAccessKey` and compares it with the one in its
 * Authorization header. `body` must be the exact bytes received.
 */
export function verifySigV4(req: SignedRequest, body: Buffer | string, secretAccessKey: string): boolean {
  const auth = parseSigV4Authorization(singleHeader(req.headers.authorization));
  const amzDate = singleHeader(req.headers['x-amz-date']);
  if (!auth || !amzDate || !amzDate.startsWith(auth.date)) return false;

  const canonical = canonicalRequest(req, body, auth.signedHeaders);
  if (canonical === undefined) return false;
  const stringToSign = [ALGORITHM, amzDate, auth.scope, sha256Hex(canonical)].join('\n');
  const key = [auth.date, auth.region, auth.service, 'aws4_request'].reduce<Buffer>(
    (k, part) => hmac(k, part),
    Buffer.from(`AWS4${secretAccessKey}`, 'utf8'),
  );
  const expected = hmac(key, stringToSign);
  const given = Buffer.from(auth.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function canonicalRequest(
  req: SignedRequest,
  body: Buffer | string,
  signedHeaders: string[],
): string | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);

  const headerLines: string[] = [];
  for (const name of signedHeaders) {
    const values = headerValues(req, name);
    // A header the client signed but that did not arrive can never verify.
    if (values.length === 0) return undefined;
    headerLines.push(`${name}:${values.map(canonicalHeaderValue).join(',')}`);
  }

  // The SDK sends x-amz-content-sha256 even for JSON services. Signing the header alone would not
  // bind the body, so, like AWS, insist that a claimed hash matches the bytes received.
  const claimed = singleHeader(req.headers['x-amz-content-sha256']);
  const actual = sha256Hex(body);
  if (claimed !== undefined && claimed !== 'UNSIGNED-PAYLOAD' && claimed !== actual) return undefined;
  const payloadHash = claimed ?? actual;
  return [
    (req.method ?? 'GET').toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    headerLines.join('\n') + '\n',
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/**
 * Non-S3 services sign the normalised path encoded a second time: the wire path is already
 * percent-encoded once, so '%' itself becomes '%25' here.
 */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0) return '/';
  const trailing = path.endsWith('/') ? '/' : '';
  return '/' + segments.map(uriEncode).join('/') + trailing;
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      return [uriEncode(percentDecode(key)), uriEncode(percentDecode(value))] as const;
    })
    .filter(([key]) => key !== 'X-Amz-Signature');
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([key, value]) => `${key}=${value}`).join('&');
}

function headerValues(req: SignedRequest, name: string): string[] {
  if (req.rawHeaders) {
    const values: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i].toLowerCase() === name) values.push(req.rawHeaders[i + 1]);
    }
    return values;
  }
  const value = req.headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function canonicalHeaderValue(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** RFC 3986 encoding: everything but unreserved characters, with upper-case hex. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
