import { describe, expect, it } from 'vitest';
import { decliningSdpAnswer } from '../../appserver/sdp-answer.js';

describe('decliningSdpAnswer (RFC 3264 §6)', () => {
  it('answers each offered stream in order with port 0, keeping its mid', () => {
    const offer = [
      'v=0',
      'o=- 46117 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=group:BUNDLE 0 1',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8',
      'c=IN IP4 0.0.0.0',
      'a=mid:0',
      'a=ice-ufrag:abcd',
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
      'a=mid:1',
      '',
    ].join('\r\n');
    expect(decliningSdpAnswer(offer, 7)).toBe(
      ['v=0', 'o=siprelay-appserver 7 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=audio 0 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'm=video 0 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:1', ''].join('\r\n'),
    );
  });

  it('returns undefined for something that is not SDP', () => {
    expect(decliningSdpAnswer('hello')).toBeUndefined();
  });
});
