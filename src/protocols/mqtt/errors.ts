/**
 * MQTT return codes (3.1.1) and reason codes (5.0) used by the adapter, and the mapping from the core's
 * error codes (src/core/errors.ts) to them.
 */
import { isBrokerError } from '../../core/errors.js';
import type { ProtocolVersion } from './codec/connect-sniff.js';

/** 3.1.1 CONNACK return codes (3.2.2.3). */
export const ConnackV3 = {
  accepted: 0x00,
  unacceptableProtocolVersion: 0x01,
  identifierRejected: 0x02,
  serverUnavailable: 0x03,
  badUserNameOrPassword: 0x04,
  notAuthorized: 0x05,
} as const;

/** 5.0 reason codes (2.4), the subset this server sends. */
export const Reason = {
  success: 0x00,
  grantedQos1: 0x01,
  grantedQos2: 0x02,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecificError: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  serverShuttingDown: 0x8b,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  sharedSubscriptionsNotSupported: 0x9e,
  subscriptionIdentifiersNotSupported: 0xa1,
} as const;

/** 3.1.1 SUBACK failure return code. */
export const SUBACK_FAILURE_V3 = 0x80;

/** CONNACK code for a refused CONNECT caused by a core error (authentication, broker closing...). */
export function connackCodeFor(error: unknown, version: ProtocolVersion): number {
  if (version === 5) {
    if (isBrokerError(error, 'AUTHENTICATION_FAILED')) return Reason.badUserNameOrPassword;
    if (isBrokerError(error, 'ACCESS_REFUSED')) return Reason.notAuthorized;
    if (isBrokerError(error, 'BROKER_CLOSED')) return Reason.serverUnavailable;
    if (isBrokerError(error, 'INVALID_NAME')) return Reason.clientIdentifierNotValid;
    return Reason.unspecifiedError;
  }
  // 3.1.1 has no "bad credentials" code that fits better: 0x04 means malformed user name or password.
  if (isBrokerError(error, 'AUTHENTICATION_FAILED') || isBrokerError(error, 'ACCESS_REFUSED')) return ConnackV3.notAuthorized;
  if (isBrokerError(error, 'INVALID_NAME')) return ConnackV3.identifierRejected;
  return ConnackV3.serverUnavailable;
}

/** SUBACK code for one refused subscription; the others in the packet are unaffected. */
export function subackFailureFor(error: unknown, version: ProtocolVersion): number {
  if (version !== 5) return SUBACK_FAILURE_V3;
  if (isBrokerError(error, 'ACCESS_REFUSED')) return Reason.notAuthorized;
  if (isBrokerError(error, 'QUEUE_FULL')) return Reason.quotaExceeded;
  if (isBrokerError(error, 'INVALID_NAME') || isBrokerError(error, 'INVALID_ARGUMENT')) return Reason.topicFilterInvalid;
  return Reason.unspecifiedError;
}

/** PUBACK / PUBREC reason (5.0) for a publish the core refused. */
export function publishFailureFor(error: unknown): number {
  if (isBrokerError(error, 'ACCESS_REFUSED')) return Reason.notAuthorized;
  if (isBrokerError(error, 'QUEUE_FULL')) return Reason.quotaExceeded;
  if (isBrokerError(error, 'INVALID_ARGUMENT')) return Reason.implementationSpecificError;
  return Reason.unspecifiedError;
}

/** The reason string sent with a refusing PUBACK / PUBREC when the client asked for problem information. */
export function publishFailureText(reasonCode: number): string {
  if (reasonCode === Reason.notAuthorized) return 'not authorized to publish to this topic';
  if (reasonCode === Reason.quotaExceeded) return 'a queue refused the message (full)';
  if (reasonCode === Reason.implementationSpecificError) return 'the message was refused';
  return 'publishing failed';
}

/** UNSUBACK reason (5.0) for a refused unsubscription. */
export function unsubackFailureFor(error: unknown): number {
  if (isBrokerError(error, 'ACCESS_REFUSED')) return Reason.notAuthorized;
  return Reason.unspecifiedError;
}
