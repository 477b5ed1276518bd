/**
 * Orders IP addresses for stable output: IPv4 numerically (10.0.0.2 before 10.0.0.10), then
 * IPv6 by text. The IPv4 parse is by hand because it runs once per endpoint of every compile.
 */

/** The address as a number, or -1 when it is not dotted-quad IPv4. */
export function ipv4Value(ip: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else {
      return -1;
    }
    if (octet > 255) return -1;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

/** Compares two `ip` / `port` pairs: IPv4 first, numerically; then IPv6 by text. */
export function compareAddresses(ipA: string, portA: number, ipB: string, portB: number): number {
  const a = ipv4Value(ipA);
  const b = ipv4Value(ipB);
  if (a !== b) {
    if (a < 0) return 1;
    if (b < 0) return -1;
    return a - b;
  }
  if (a < 0 && ipA !== ipB) return ipA < ipB ? -1 : 1;
  return portA - portB;
}
