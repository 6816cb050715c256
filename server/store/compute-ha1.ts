import { md5 } from '@noble/hashes/legacy';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/** Digest algorithms whose HA1 the store keeps (RFC 8760: SHA-256 and MD5). */
export type Ha1Algorithm = 'MD5' | 'SHA-256';

/**
 * HA1 = H(username ":" realm ":" password) as lower-case hex, with the
 * strings in UTF-8 (RFC 7616 §3.4.2 and §4). Stored instead of the password,
 * so a leaked database does not reveal it (though an HA1 still lets its
 * holder authenticate in its realm: treat the database as secret).
 */
export function computeHa1(algorithm: Ha1Algorithm, username: string, realm: string, password: string): string {
  const input = utf8ToBytes(`${username}:${realm}:${password}`);
  return bytesToHex(algorithm === 'MD5' ? md5(input) : sha256(input));
}
