/**
 * A small non-cryptographic hash (FNV-1a, 2 × 64 bits) for cache keys and lock names. Loading
 * node:crypto costs a cache hit about 2 ms, close to a tenth of the whole process; nothing hashed
 * here is a secret (the identity fingerprint is built from key IDs, role ARNs and URIs).
 */
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const OFFSETS = [0xcbf29ce484222325n, 0x84222325cbf29ce4n];

export function hash(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return OFFSETS.map((offset) => {
    let h = offset;
    for (const byte of bytes) h = ((h ^ BigInt(byte)) * PRIME) & MASK;
    return h.toString(16).padStart(16, '0');
  }).join('');
}
