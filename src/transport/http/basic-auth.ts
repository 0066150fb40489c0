import type { IncomingMessage } from 'node:http';
import { BrokerError } from '../../core/errors.js';
import type { Authenticator, Principal } from '../../core/ports.js';

/**
 * Authenticates a request by HTTP Basic through the broker's authenticator. Every request must carry
 * credentials (no anonymous access, unlike MQTT/STOMP): scripts and services say who they are.
 */
export async function authenticateBasic(request: IncomingMessage, authenticator: Authenticator): Promise<Principal> {
  const header = request.headers.authorization ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) throw new BrokerError('AUTHENTICATION_FAILED', 'HTTP Basic credentials are required');
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new BrokerError('AUTHENTICATION_FAILED', 'malformed HTTP Basic credentials');
  return authenticator.authenticate({
    mechanism: 'PLAIN',
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
    remoteAddress: request.socket.remoteAddress ?? '',
    protocol: 'http',
  });
}
