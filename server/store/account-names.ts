import { USER } from '../../sip/grammar/char-classes.js';
import { storeError } from './store-error.js';

/** Longest user, application-server or service name accepted. */
export const MAX_NAME_LENGTH = 64;
/** Longest domain accepted (RFC 1035 §2.3.4: 253 characters in text form). */
export const MAX_DOMAIN_LENGTH = 253;

/**
 * Checks a SIP username: 1 to {@link MAX_NAME_LENGTH} characters that may
 * stand unescaped in a SIP URI user part (RFC 3261 §25.1 `user`), so the
 * name can be dialled as written. `:` and `@` are excluded by that grammar,
 * which also keeps `username:realm:password` unambiguous for HA1.
 *
 * @throws StoreError `STORE_ERR_INVALID`
 */
export function checkUsername(name: string, what = 'username'): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw storeError('STORE_ERR_INVALID', `${what} must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || USER[c] === 0) {
      throw storeError(
        'STORE_ERR_INVALID',
        `${what} "${name}" contains "${name[i]}"; use letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? /`,
      );
    }
  }
  return name;
}

/**
 * Checks a domain (hostname, IPv4 address or bracketed IPv6 reference) and
 * returns it lower-cased: hosts compare case-insensitively (RFC 3261 §19.1.4).
 *
 * @throws StoreError `STORE_ERR_INVALID`
 */
export function normalizeDomain(domain: string): string {
  const d = typeof domain === 'string' ? domain.toLowerCase() : '';
  const hostname = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/;
  const ipv6 = /^\[[0-9a-f:.]+\]$/;
  if (d.length > MAX_DOMAIN_LENGTH || !(hostname.test(d) || ipv6.test(d))) {
    throw storeError('STORE_ERR_INVALID', `domain "${String(domain)}" is not a hostname or IP address`);
  }
  return d;
}

/**
 * Checks a service name: a token of lower-case letters, digits, `-`, `_`
 * and `.`, starting with a letter or digit, so that it works as the user
 * part of `sip:<service>@<domain>`.
 *
 * @throws StoreError `STORE_ERR_INVALID`
 */
export function checkServiceName(name: string): string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
    throw storeError(
      'STORE_ERR_INVALID',
      `service name "${String(name)}" must be 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}

/**
 * Checks a password: non-empty, at most 1024 characters, no control
 * characters (they cannot be typed into a SIP client reliably).
 *
 * @throws StoreError `STORE_ERR_INVALID`
 */
export function checkPassword(password: string): string {
  if (typeof password !== 'string' || password.length === 0) {
    throw storeError('STORE_ERR_INVALID', 'password must not be empty');
  }
  if (password.length > 1024) throw storeError('STORE_ERR_INVALID', 'password must be at most 1024 characters');
  if (/[\u0000-\u001f\u007f]/.test(password)) {
    throw storeError('STORE_ERR_INVALID', 'password must not contain control characters');
  }
  return password;
}
