import type { DigestHashAlgorithm } from '../../sip/auth/digest-algorithm.js';

/**
 * The HA1 a row keeps for a digest hash algorithm. The store keeps MD5 and
 * SHA-256 (RFC 8760 §2.4: what SIP clients use); SHA-512-256 has none, so a
 * response with it cannot be verified and the caller treats it as unknown.
 */
export function storedHa1(
  row: { ha1_md5: string; ha1_sha256: string },
  algorithm: DigestHashAlgorithm,
): string | undefined {
  if (algorithm === 'MD5') return row.ha1_md5;
  if (algorithm === 'SHA-256') return row.ha1_sha256;
  return undefined;
}
