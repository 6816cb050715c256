import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeHa1 } from '../../../server/store/compute-ha1.js';

describe('computeHa1', () => {
  it('matches the MD5 HA1 of the RFC 2617 §3.5 example', () => {
    expect(computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life')).toBe('939e7578ed9e3c518a452acee763bce9');
  });

  it('is SHA-256 of username:realm:password in UTF-8 for SHA-256 (RFC 7616 §3.4.2)', () => {
    const expected = createHash('sha256').update('J\u00e4s\u00f8n:example.org:Secret, or not?', 'utf8').digest('hex');
    expect(computeHa1('SHA-256', 'J\u00e4s\u00f8n', 'example.org', 'Secret, or not?')).toBe(expected);
  });
});
