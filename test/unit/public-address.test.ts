import { describe, expect, it } from 'vitest';
import { embeddedIpv4, isPublicAddress, mediaUrlShapeProblem } from '../../src/domain/public-address';
import { publicMediaUrlProblem, type HostResolver } from '../../src/integrations/public-media-url';

const ACCOUNT = `AC${'1'.repeat(32)}`;

describe('issue 18 A: public addresses', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.254',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fe80::1',
    'fe80::1%eth0',
    'fd00::1',
    'fc12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:0:a9fe:a9fe',
    '64:ff9b::192.168.0.1',
    '2001:db8::1',
    '2002:7f00:1::1',
    '[::1]',
    'not an address',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:2800:21f:cb07::1', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it('finds the IPv4 inside mapped and NAT64 addresses', () => {
    expect(embeddedIpv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIpv4('::ffff:192.168.0.1')).toBe('192.168.0.1');
    expect(embeddedIpv4('64:ff9b::a00:1')).toBe('10.0.0.1');
    expect(embeddedIpv4('2001:db8::1')).toBeNull();
  });

  it('refuses the planted Twilio API URL, http, credentials and literal private addresses by shape', () => {
    expect(
      mediaUrlShapeProblem(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}.json?x=/Accounts/${ACCOUNT}/`),
    ).toBe('twilio_api');
    expect(mediaUrlShapeProblem('https://messaging.twilio.com/v1/Services')).toBe('twilio_api');
    expect(mediaUrlShapeProblem('https://API.Twilio.com./x')).toBe('twilio_api');
    expect(mediaUrlShapeProblem('http://cdn.example.com/a.jpg')).toBe('not_https');
    expect(mediaUrlShapeProblem('https://user:pw@cdn.example.com/a.jpg')).toBe('credentials');
    expect(mediaUrlShapeProblem('https://127.0.0.1/a.jpg')).toBe('private_address');
    expect(mediaUrlShapeProblem('https://2130706433/a.jpg')).toBe('private_address'); // 127.0.0.1 in decimal
    expect(mediaUrlShapeProblem('https://[::ffff:127.0.0.1]/a.jpg')).toBe('private_address');
    expect(mediaUrlShapeProblem('https://localhost/a.jpg')).toBe('private_address');
    expect(mediaUrlShapeProblem('https://fake.test:4443/x', ['https://fake.test:4443'])).toBe('twilio_api');
    expect(mediaUrlShapeProblem('https://cdn.example.com/a.jpg')).toBeNull();
    expect(mediaUrlShapeProblem('https://assets.twil.io/a.jpg')).toBeNull();
  });

  it('checks every address the host resolves to', async () => {
    const table: Record<string, string[]> = {
      'cdn.example.com': ['93.184.215.14'],
      'sneaky.example.net': ['127.0.0.1'],
      'mixed.example.net': ['93.184.215.14', 'fd00::1'],
      'mapped.example.net': ['::ffff:169.254.169.254'],
      'empty.example.net': [],
    };
    const resolve: HostResolver = (host) => {
      const found = table[host];
      return found ? Promise.resolve(found) : Promise.reject(new Error('ENOTFOUND'));
    };
    expect(await publicMediaUrlProblem('https://cdn.example.com/a.jpg', { resolve })).toBeNull();
    expect(await publicMediaUrlProblem('https://sneaky.example.net/a.jpg', { resolve })).toMatch(/public/);
    expect(await publicMediaUrlProblem('https://mixed.example.net/a.jpg', { resolve })).toMatch(/public/);
    expect(await publicMediaUrlProblem('https://mapped.example.net/a.jpg', { resolve })).toMatch(/public/);
    expect(await publicMediaUrlProblem('https://empty.example.net/a.jpg', { resolve })).toMatch(/resolve/);
    expect(await publicMediaUrlProblem('https://nowhere.example.net/a.jpg', { resolve })).toMatch(/resolve/);
    const slow: HostResolver = () => new Promise(() => undefined);
    expect(await publicMediaUrlProblem('https://cdn.example.com/a.jpg', { resolve: slow, timeoutMs: 50 })).toMatch(
      /resolve/,
    );
    expect(await publicMediaUrlProblem('https://api.twilio.com/2010-04-01/Accounts.json', { resolve })).toMatch(
      /Twilio/,
    );
  });
});
