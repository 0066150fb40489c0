/**
 * STOMP frames as the codec sees them: a command, headers and a body of bytes. The codec gives commands
 * no meaning (the session decides what an unknown one means), only how their headers are escaped.
 */
export type StompVersion = '1.0' | '1.1' | '1.2';

/** Highest first: negotiation picks the first one the client also accepts. */
export const supportedVersions: readonly StompVersion[] = ['1.2', '1.1', '1.0'];

/** Headers in wire order; a repeated header keeps its first value ([STOMP 1.2] "Repeated Header Entries"). */
export type StompHeaders = ReadonlyMap<string, string>;

export interface StompFrame {
  readonly command: string;
  readonly headers: StompHeaders;
  readonly body: Uint8Array;
}

/**
 * How header names and values are escaped. STOMP 1.0 has no escaping; 1.1 escapes LF, ':' and '\';
 * 1.2 adds CR. CONNECT and CONNECTED frames are never escaped, whatever the version ([STOMP 1.2]
 * "Value Encoding"), because the version is not known yet when they are written.
 */
export type HeaderEscaping = 'none' | '1.1' | '1.2';

export function escapingFor(version: StompVersion): HeaderEscaping {
  return version === '1.0' ? 'none' : version;
}

export function isUnescapedCommand(command: string): boolean {
  return command === 'CONNECT' || command === 'CONNECTED' || command === 'STOMP';
}

const EMPTY_BODY = new Uint8Array(0);

/** A frame with headers given as pairs; a repeated name keeps its first value, as the parser does. */
export function makeFrame(command: string, headers: Iterable<readonly [string, string]> = [], body: Uint8Array = EMPTY_BODY): StompFrame {
  const map = new Map<string, string>();
  for (const [name, value] of headers) if (!map.has(name)) map.set(name, value);
  return { command, headers: map, body };
}

export { EMPTY_BODY };
