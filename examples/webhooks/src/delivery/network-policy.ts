import dns from 'node:dns';
import net from 'node:net';

/** Loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved ranges. */
const privateV4 = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) privateV4.addSubnet(address, prefix, 'ipv4');
const privateV6 = new net.BlockList();
for (const [address, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) privateV6.addSubnet(address, prefix, 'ipv6');
// IPv4 embedded in IPv6 (mapped, NAT64) is refused outright. Kept in its own list: a BlockList
// matches plain IPv4 addresses against IPv4-mapped IPv6 rules, which would block every IPv4.
const embeddedV4 = new net.BlockList();
for (const [address, prefix] of [['::ffff:0:0', 96], ['64:ff9b::', 96]] as const) embeddedV4.addSubnet(address, prefix, 'ipv6');

/** Whether an IP address is one a webhook must not reach unless private networks are allowed. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return privateV4.check(address, 'ipv4');
  if (family === 6) return privateV6.check(address, 'ipv6') || embeddedV4.check(address, 'ipv6');
  return false;
}

/** `[::1]` → `::1` (URL hostnames keep the brackets of IPv6 literals). */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Host names that always mean this machine, without asking DNS. */
export function isLocalName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses private addresses after DNS
 * resolution, so a public name that resolves (or re-binds) to 127.0.0.1 or
 * 169.254.169.254 is refused at connect time, not only when the URL was saved.
 */
export function guardedLookup(allowPrivateNetworks: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, options, ((err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => {
      if (err || allowPrivateNetworks) return callback(err, address, family);
      const all = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const blocked = all.find((a) => isPrivateAddress(a));
      if (blocked) {
        const refused = Object.assign(new Error(`${hostname} resolves to the private address ${blocked} (private networks are not allowed)`), { code: 'EWEBHOOKPRIVATE' });
        return callback(refused, address, family);
      }
      callback(null, address, family);
    }) as never);
  };
}
