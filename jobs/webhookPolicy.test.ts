import { describe, expect, it } from 'vitest';
import {
  addressRefusal,
  blockedReason,
  callbackUrlRefusal,
  NO_ALLOW_LIST,
  parseAllowList,
  parseIPv6,
} from './webhookPolicy.js';

describe('addresses a webhook may not reach by default', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['100.100.100.200', 'CGNAT'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00:ec2::254', 'private'],
    ['fc00::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ])('%s is refused (%s)', (ip, why) => {
    expect(blockedReason(ip)).toContain(why);
    expect(addressRefusal(ip, NO_ALLOW_LIST)).toContain(why);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('%s is a public address', (ip) => {
    expect(blockedReason(ip)).toBeNull();
  });

  it('parses IPv6 forms exactly and refuses what is not an address', () => {
    expect(parseIPv6('::1')).toEqual([...Array(15).fill(0), 1]);
    expect(parseIPv6('1::2:3')).toEqual([0, 1, ...Array(10).fill(0), 0, 2, 0, 3]);
    expect(parseIPv6('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('12345::')).toBeNull();
    expect(blockedReason('example.com')).toBe('not an IP address');
    expect(blockedReason('127.1')).toBe('not an IP address');
  });

  it('opens what the allow-list names, IPv4-mapped forms included, and nothing else', () => {
    const allow = parseAllowList(['127.0.0.0/8', 'fd00::/8', 'hooks.internal']);
    expect(addressRefusal('127.0.0.1', allow)).toBeNull();
    expect(addressRefusal('::ffff:127.0.0.1', allow)).toBeNull();
    expect(addressRefusal('fd12::1', allow)).toBeNull();
    expect(addressRefusal('10.0.0.1', allow)).toContain('private');
    expect(addressRefusal('::1', allow)).toContain('loopback');
    expect(allow.hosts).toEqual(['hooks.internal']);
    expect(() => parseAllowList(['10.0.0.0/33'])).toThrow(/TRADEFLOW_WEBHOOK_ALLOW/);
    expect(() => parseAllowList(['not a host'])).toThrow(/TRADEFLOW_WEBHOOK_ALLOW/);
  });
});

describe('callback URLs checked when a job names one', () => {
  it.each([
    ['not a url', 'not an absolute URL'],
    ['/relative/path', 'not an absolute URL'],
    ['ftp://example.com/x', "scheme 'ftp'"],
    ['file:///etc/passwd', "scheme 'file'"],
    ['javascript:alert(1)', "scheme 'javascript'"],
    ['https://user:pw@example.com/hook', 'credentials'],
    ['https://user@example.com/hook', 'credentials'],
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://2130706433/hook', 'loopback'],
    ['http://0x7f.1/hook', 'loopback'],
    ['http://[::1]/hook', 'loopback'],
    ['http://[::ffff:169.254.169.254]/latest/meta-data', 'link-local'],
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://10.0.0.1/hook', 'private'],
    ['http://[fd00:ec2::254]/', 'private'],
    [`https://example.com/${'a'.repeat(2100)}`, 'longer than'],
  ])('%s is refused (%s)', (url, why) => {
    expect(callbackUrlRefusal(url, NO_ALLOW_LIST)).toContain(why);
  });

  it('accepts public http(s) URLs and host names (their addresses are checked at delivery)', () => {
    expect(callbackUrlRefusal('https://example.com/hooks/tradeflow?x=1', NO_ALLOW_LIST)).toBeNull();
    expect(callbackUrlRefusal('http://93.184.215.14:8080/h', NO_ALLOW_LIST)).toBeNull();
    expect(callbackUrlRefusal('http://localhost:8080/h', NO_ALLOW_LIST)).toBeNull();
  });

  it('lets the allow-list open a literal address or a host', () => {
    expect(callbackUrlRefusal('http://127.0.0.1:9/h', parseAllowList(['127.0.0.1']))).toBeNull();
    expect(callbackUrlRefusal('http://[::1]:9/h', parseAllowList(['::1/128']))).toBeNull();
    expect(callbackUrlRefusal('http://10.0.0.1/h', parseAllowList(['127.0.0.1']))).toContain('private');
  });
});
