/**
 * Where a completion webhook may be sent (no server-side request forgery), pure: URLs are checked when a
 * job names one (syntax, scheme, credentials, a literal address), and the addresses its host resolves to
 * are checked again at each delivery, which then connects to the address checked (DNS rebinding cannot
 * swap it). Refused by default: loopback, private, link-local (cloud metadata included), CGNAT,
 * multicast, reserved and documentation ranges, IPv4 and IPv6 alike, IPv4 hidden in IPv6 (mapped,
 * compatible, NAT64, 6to4) and tunnels. An allow-list of CIDRs, addresses and host names opens them.
 */

/** An address as 16 bytes: IPv4 as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so one table serves both. */
type Bytes = number[];

export function parseIPv4(s: string): Bytes | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

const mapped = (v4: Bytes): Bytes => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4];

export function parseIPv6(input: string): Bytes | null {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  // A zone (fe80::1%eth0) only names a link: link-local either way.
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return null;
  let tail: Bytes = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const out: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = Number.parseInt(g, 16);
    out.push(n >> 8, n & 0xff);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

/** An address literal (IPv4 dotted quad or IPv6, brackets allowed) as 16 bytes, or null. */
export function parseAddress(s: string): Bytes | null {
  const v4 = parseIPv4(s);
  return v4 ? mapped(v4) : parseIPv6(s);
}

export interface Cidr {
  bytes: Bytes;
  prefix: number;
}

export function parseCidr(s: string): Cidr | null {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || !addr) return null;
  const v4 = parseIPv4(addr);
  const bytes = v4 ? mapped(v4) : parseIPv6(addr);
  if (!bytes) return null;
  const max = v4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return null;
  return { bytes, prefix: v4 ? prefix + 96 : prefix };
}

export function inCidr(a: Bytes, c: Cidr): boolean {
  for (let bit = 0; bit < c.prefix; bit += 8) {
    const left = c.prefix - bit;
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((a[bit / 8]! & mask) !== (c.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

const BLOCKED: Array<[string, string]> = [
  ['0.0.0.0/8', '"this network" address'],
  ['10.0.0.0/8', 'private address'],
  ['100.64.0.0/10', 'shared (CGNAT) address'],
  ['127.0.0.0/8', 'loopback address'],
  ['169.254.0.0/16', 'link-local address (cloud metadata lives here)'],
  ['172.16.0.0/12', 'private address'],
  ['192.0.0.0/24', 'IETF protocol address'],
  ['192.0.2.0/24', 'documentation address'],
  ['192.88.99.0/24', '6to4 relay address'],
  ['192.168.0.0/16', 'private address'],
  ['198.18.0.0/15', 'benchmarking address'],
  ['198.51.100.0/24', 'documentation address'],
  ['203.0.113.0/24', 'documentation address'],
  ['224.0.0.0/4', 'multicast address'],
  ['240.0.0.0/4', 'reserved address'],
  ['::/128', 'unspecified address'],
  ['::1/128', 'loopback address'],
  ['100::/64', 'discard address'],
  ['2001::/32', 'Teredo tunnel address'],
  ['2001:db8::/32', 'documentation address'],
  ['fc00::/7', 'private (unique local) address'],
  ['fe80::/10', 'link-local address'],
  ['fec0::/10', 'site-local address'],
  ['ff00::/8', 'multicast address'],
];
const BLOCKED_CIDRS = BLOCKED.map(([c, why]) => ({ cidr: parseCidr(c)!, why }));

/** IPv4 carried inside an IPv6 address (compatible ::a.b.c.d, NAT64 64:ff9b::/96 and /48, 6to4 2002::/16). */
function embeddedIPv4(a: Bytes): Bytes | null {
  const zeros = (from: number, to: number) => a.slice(from, to).every((b) => b === 0);
  if (zeros(0, 12)) return a.slice(12);
  if (a[0] === 0 && a[1] === 0x64 && a[2] === 0xff && a[3] === 0x9b) return a.slice(12);
  if (a[0] === 0x20 && a[1] === 0x02) return a.slice(2, 6);
  return null;
}

const isMapped = (a: Bytes) => a.slice(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;

/** Why an address may not be called by default, or null when it is a public unicast address. */
export function blockedReason(address: string): string | null {
  const a = parseAddress(address);
  if (!a) return 'not an IP address';
  for (const { cidr, why } of BLOCKED_CIDRS) if (inCidr(a, cidr)) return why;
  if (!isMapped(a)) {
    const v4 = embeddedIPv4(a);
    if (v4) {
      const inner = blockedReason(v4.join('.'));
      if (inner) return `${inner} embedded in IPv6`;
    }
  }
  return null;
}

/** The allow-list setting (`TRADEFLOW_WEBHOOK_ALLOW`): CIDRs or addresses, and host names. */
export interface WebhookAllowList {
  cidrs: Cidr[];
  hosts: string[];
}

export const NO_ALLOW_LIST: WebhookAllowList = { cidrs: [], hosts: [] };

export function parseAllowList(entries: readonly string[]): WebhookAllowList {
  const out: WebhookAllowList = { cidrs: [], hosts: [] };
  for (const raw of entries) {
    const e = raw.trim().toLowerCase();
    if (!e) continue;
    const cidr = parseCidr(e);
    if (cidr) out.cidrs.push(cidr);
    else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(e)) out.hosts.push(e);
    else throw new Error(`TRADEFLOW_WEBHOOK_ALLOW: '${raw}' is neither a CIDR, an IP address nor a host name`);
  }
  return out;
}

/** Why delivering to this resolved address is refused, or null when allowed. */
export function addressRefusal(address: string, allow: WebhookAllowList): string | null {
  const a = parseAddress(address);
  if (!a) return `'${address}' is not an IP address`;
  if (allow.cidrs.some((c) => inCidr(a, c))) return null;
  const why = blockedReason(address);
  return why ? `${address} is a ${why}` : null;
}

/** The host of a URL as written for lookup: IPv6 literals without brackets, lowercased. */
export function urlHost(url: URL): string {
  const h = url.hostname.toLowerCase();
  return h.startsWith('[') ? h.slice(1, -1) : h;
}

export const MAX_CALLBACK_URL_LENGTH = 2048;

/**
 * Why a callback URL is refused when a job names it, or null: checked before any job starts. The
 * WHATWG parser normalises numeric hosts (`http://2130706433/`, `0x7f.1`) to dotted quads first, so a
 * disguised literal is still a literal. Host names pass here; what they resolve to is checked at delivery.
 */
export function callbackUrlRefusal(raw: string, allow: WebhookAllowList): string | null {
  if (raw.length > MAX_CALLBACK_URL_LENGTH) return `is longer than ${MAX_CALLBACK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `has scheme '${url.protocol.slice(0, -1)}': only http and https`;
  }
  if (url.username || url.password) return 'carries credentials: put a secret in the path or verify the signature';
  const host = urlHost(url);
  if (!host) return 'has no host';
  if (allow.hosts.includes(host)) return null;
  if (parseAddress(host)) {
    const why = addressRefusal(host, allow);
    if (why) return `names ${why}; set TRADEFLOW_WEBHOOK_ALLOW to open it`;
  }
  return null;
}
