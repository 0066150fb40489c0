import { BlockList, isIP } from 'node:net';

/**
 * Returns a predicate telling whether a socket's remote address is a loopback address: 127.0.0.0/8,
 * ::1, and IPv4-mapped IPv6 forms of 127.0.0.0/8 (::ffff:127.0.0.1, ::ffff:7f00:1), with or without a
 * zone suffix. Anything that is not an IP address (empty, a host name, a Unix socket path) is not loopback:
 * a loopback-only user is refused when the transport cannot prove where the peer is.
 */
export function createLoopbackMatcher(): (address: string) => boolean {
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  return (address: string): boolean => {
    const family = isIP(address);
    if (family === 0) return false;
    return loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
