import { type KeyObject, createPrivateKey, sign } from 'node:crypto';
import type { JWK } from 'jose';
import type { SigningAlgorithm } from '../store/signing-key-repository.js';
import { identityError } from './identity-error.js';

/**
 * Signs JWTs (RFC 7519) in JWS compact form (RFC 7515 §7.1) with one
 * private key, synchronously, with Node's own crypto: the relay signs a
 * token per forked branch on the call path, where jose's asynchronous API
 * would cost a tick per token. The key is imported once. Tokens verify
 * with any JOSE library (jose's `jwtVerify` in the tests).
 *
 * - `EdDSA` with Ed25519 (RFC 8037 §3.1): `crypto.sign(null, …)`.
 * - `ES256` (RFC 7518 §3.4): SHA-256 with the signature as R‖S, 64 bytes
 *   (`dsaEncoding: 'ieee-p1363'`), not DER.
 */
export class JwsSigner {
  readonly kid: string;
  readonly algorithm: SigningAlgorithm;
  private readonly key: KeyObject;
  /** base64url of the protected header plus the dot, made once. */
  private readonly headerPart: string;

  constructor(options: { kid: string; algorithm: SigningAlgorithm; privateJwk: JWK }) {
    const { kid, algorithm, privateJwk } = options;
    if (typeof kid !== 'string' || kid.length === 0) throw identityError('IDENTITY_ERR_KEY', 'a signing key needs a kid');
    if (algorithm !== 'EdDSA' && algorithm !== 'ES256') {
      throw identityError('IDENTITY_ERR_KEY', `signing key ${kid}: unsupported algorithm ${String(algorithm)}`);
    }
    const expected = algorithm === 'EdDSA' ? { kty: 'OKP', crv: 'Ed25519' } : { kty: 'EC', crv: 'P-256' };
    if (privateJwk?.kty !== expected.kty || privateJwk.crv !== expected.crv || typeof privateJwk.d !== 'string') {
      throw identityError('IDENTITY_ERR_KEY', `signing key ${kid}: not a private ${expected.kty} ${expected.crv} JWK for ${algorithm}`);
    }
    try {
      // any: Node's JsonWebKey type and jose's JWK differ only in index signatures.
      this.key = createPrivateKey({ key: privateJwk as any, format: 'jwk' });
    } catch (e) {
      throw identityError('IDENTITY_ERR_KEY', `signing key ${kid} cannot be imported: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    this.kid = kid;
    this.algorithm = algorithm;
    this.headerPart = base64url(JSON.stringify({ alg: algorithm, typ: 'JWT', kid })) + '.';
  }

  /** `header.payload.signature` for the given claims. */
  sign(claims: object): string {
    const input = this.headerPart + base64url(JSON.stringify(claims));
    const data = Buffer.from(input, 'ascii');
    const signature =
      this.algorithm === 'EdDSA'
        ? sign(null, data, this.key)
        : sign('sha256', data, { key: this.key, dsaEncoding: 'ieee-p1363' });
    return input + '.' + signature.toString('base64url');
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
