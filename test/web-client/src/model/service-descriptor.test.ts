import { describe, expect, it } from 'vitest';
import { serviceDescriptorOf } from '../../../../web-client/src/model/service-descriptor.js';
import { multipartResponse, response } from './sip-fixtures.js';

describe('the service descriptor of a 2xx', () => {
  it('is the JSON body of application/vnd.siprelay.service+json, every field kept', () => {
    const d = serviceDescriptorOf(
      response(200, 'OK', ['Content-Type: application/vnd.siprelay.service+json'], JSON.stringify({ url: 'http://localhost:8081/?token=t', title: 'The Wine Cellar', results: 2 })),
    );
    expect(d).toMatchObject({ url: 'http://localhost:8081/?token=t', title: 'The Wine Cellar' });
    expect(d?.fields.results).toBe(2);
  });
  it('is the siprelay part of a multipart/mixed body beside SDP', () => {
    expect(serviceDescriptorOf(multipartResponse('{"url":"https://shop.example/s/1"}'))?.url).toBe('https://shop.example/s/1');
  });
  it('falls back to Call-Info with purpose=info (the form for clients that need SDP)', () => {
    const d = serviceDescriptorOf(response(200, 'OK', ['Call-Info: <http://localhost:8081/?token=t>;purpose=info', 'Content-Type: application/sdp'], 'v=0\r\n'));
    expect(d?.url).toBe('http://localhost:8081/?token=t');
  });
  it('refuses URLs that are not absolute http(s): a javascript: URL must never reach the iframe', () => {
    expect(serviceDescriptorOf(response(200, 'OK', ['Content-Type: application/vnd.siprelay.service+json'], '{"url":"javascript:alert(1)"}'))).toBeUndefined();
    expect(serviceDescriptorOf(response(200, 'OK', ['Content-Type: application/vnd.siprelay.service+json'], '{"url":"/relative"}'))).toBeUndefined();
    expect(serviceDescriptorOf(response(200, 'OK', ['Call-Info: <data:text/html,x>;purpose=info']))).toBeUndefined();
  });
  it('is undefined for a body that is not a descriptor', () => {
    expect(serviceDescriptorOf(response(200, 'OK', ['Content-Type: application/vnd.siprelay.service+json'], 'not json'))).toBeUndefined();
    expect(serviceDescriptorOf(response(200, 'OK'))).toBeUndefined();
  });
});
