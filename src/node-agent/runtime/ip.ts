/**
 * One spelling per address, so a socket's remote address and a Pod IP from the API compare
 * equal: IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as dual-stack sockets report it) becomes plain
 * IPv4, IPv6 is lowercased and compressed (`fd00:0::01` → `fd00::1`), a zone (`%eth0`) is dropped.
 */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

export function normalizeIp(ip: string): string {
  const address = ip.trim();
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped) return mapped[1] as string;
  if (!address.includes(':')) return address;
  const withoutZone = address.split('%')[0] as string;
  try {
    // The WHATWG URL parser prints IPv6 hosts in canonical (RFC 5952) form.
    const host = new URL(`http://[${withoutZone}]/`).hostname.slice(1, -1);
    // The parser prints a mapped IPv4 in hex (`::ffff:a00:1`); turn it back into dotted form.
    const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (hexMapped) {
      const high = parseInt(hexMapped[1] as string, 16);
      const low = parseInt(hexMapped[2] as string, 16);
      return [high >> 8, high & 255, low >> 8, low & 255].join('.');
    }
    return host;
  } catch {
    return withoutZone.toLowerCase();
  }
}
