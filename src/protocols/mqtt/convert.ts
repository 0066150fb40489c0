/**
 * MQTT PUBLISH <-> the neutral core message. Every MQTT message goes through `amq.topic` with the topic
 * converted to a routing key (topics.ts), so AMQP and STOMP clients see MQTT traffic and the reverse.
 *
 * Mapping (docs/protocols/mqtt.md has the table):
 * - QoS 0 -> non-persistent, QoS 1/2 -> persistent; the published QoS travels in `x-mqtt-publish-qos`.
 * - RETAIN on a publish -> `x-mqtt-retain: true` (for Retain As Published).
 * - 5.0 Content Type <-> `properties.contentType`; Response Topic <-> `properties.replyTo` (as a
 *   routing key); Correlation Data <-> header `x-correlation-data` (bytes), and `properties.correlationId`
 *   too when the bytes are valid UTF-8 (what AMQP clients read); Message Expiry Interval <->
 *   `properties.expiration` (ms) with `properties.timestamp` = arrival time, so the remaining interval
 *   can be forwarded; Payload Format Indicator <-> header `x-mqtt-payload-format-indicator: 1`; User
 *   Properties <-> headers (a repeated name becomes an array of strings).
 */
import { isUtf8 } from 'node:buffer';
import type { IPublishPacket, QoS, UserProperties } from 'mqtt-packet';
import { scalarHeaderText, type HeaderTable, type Message, type MessageProperties } from '../../core/message/message.js';
import type { ProtocolVersion } from './codec/connect-sniff.js';
import { routingKeyToTopic, topicToRoutingKey } from './topics.js';

export const MQTT_EXCHANGE = 'amq.topic';
export const HEADER_PUBLISH_QOS = 'x-mqtt-publish-qos';
export const HEADER_RETAIN = 'x-mqtt-retain';
export const HEADER_CORRELATION_DATA = 'x-correlation-data';
export const HEADER_PAYLOAD_FORMAT = 'x-mqtt-payload-format-indicator';
/** The client identifier of the publishing connection, for 5.0 No Local subscriptions. */
export const HEADER_PUBLISHER = 'x-mqtt-publisher';

type PublishProperties = NonNullable<IPublishPacket['properties']>;

/** What a PUBLISH (or a will) carries that becomes a core message. */
export interface InboundMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties?: PublishProperties | undefined;
}

/** A PUBLISH (or will) as a core message on `amq.topic`; `now` stamps messages that carry an expiry. */
export function toCoreMessage(inbound: InboundMessage, now: number, publisher?: string): Message {
  const headers: HeaderTable = {};
  const properties: MessageProperties = {};
  const mqtt = inbound.properties;
  if (mqtt) {
    if (mqtt.userProperties) copyUserProperties(mqtt.userProperties, headers);
    if (mqtt.contentType !== undefined) properties.contentType = mqtt.contentType;
    if (mqtt.responseTopic !== undefined) properties.replyTo = topicToRoutingKey(mqtt.responseTopic);
    if (mqtt.correlationData !== undefined) {
      headers[HEADER_CORRELATION_DATA] = new Uint8Array(mqtt.correlationData);
      if (isUtf8(mqtt.correlationData)) properties.correlationId = mqtt.correlationData.toString('utf8');
    }
    if (mqtt.messageExpiryInterval !== undefined) {
      properties.expiration = mqtt.messageExpiryInterval * 1000;
      properties.timestamp = now;
    }
    if (mqtt.payloadFormatIndicator === true) headers[HEADER_PAYLOAD_FORMAT] = 1;
  }
  headers[HEADER_PUBLISH_QOS] = inbound.qos;
  if (inbound.retain) headers[HEADER_RETAIN] = true;
  if (publisher !== undefined) headers[HEADER_PUBLISHER] = publisher;
  return {
    exchange: MQTT_EXCHANGE,
    routingKey: topicToRoutingKey(inbound.topic),
    headers,
    properties,
    body: inbound.payload,
    persistent: inbound.qos > 0,
  };
}

function copyUserProperties(userProperties: UserProperties, headers: HeaderTable): void {
  for (const name of Object.keys(userProperties)) {
    const value = userProperties[name]!;
    headers[name] = Array.isArray(value) ? [...value] : value;
  }
}

/** The QoS a message was published with: its MQTT header, else persistent -> 1, transient -> 0. */
export function publishedQos(message: Message): QoS {
  const qos = message.headers[HEADER_PUBLISH_QOS];
  if (qos === 0 || qos === 1 || qos === 2) return qos;
  return message.persistent ? 1 : 0;
}

export function wasPublishedRetained(message: Message): boolean {
  return message.headers[HEADER_RETAIN] === true;
}

/**
 * Milliseconds a message has left before its Message Expiry Interval (or AMQP expiration) ends,
 * counted from `properties.timestamp` when it has one; undefined when it never expires.
 */
export function remainingLifetimeMs(message: Message, now: number): number | undefined {
  const ttl = message.properties.expiration;
  if (ttl === undefined) return undefined;
  const since = message.properties.timestamp;
  return since === undefined ? ttl : ttl - Math.max(0, now - since);
}

export interface OutboundFields {
  readonly qos: QoS;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly messageId: number | undefined;
}

/**
 * A core message as a PUBLISH for a client of `version`; undefined when it has expired and must not be
 * delivered [MQTT-3.3.2-5]. `remainingMs` comes from remainingLifetimeMs.
 */
export function toPublishPacket(
  message: Message,
  fields: OutboundFields,
  version: ProtocolVersion,
  remainingMs: number | undefined,
): IPublishPacket | undefined {
  if (remainingMs !== undefined && remainingMs <= 0) return undefined;
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: routingKeyToTopic(message.routingKey),
    payload: bufferOf(message.body),
    qos: fields.qos,
    retain: fields.retain,
    dup: fields.dup,
  };
  if (fields.messageId !== undefined) packet.messageId = fields.messageId;
  if (version === 5) {
    const properties = publishProperties(message, remainingMs);
    if (properties) packet.properties = properties;
  }
  return packet;
}

function publishProperties(message: Message, remainingMs: number | undefined): PublishProperties | undefined {
  const source = message.properties;
  let properties: PublishProperties | undefined;
  // The expiry forwarded is what is left of it [MQTT-3.3.2-6], rounded up so it never reads 0.
  if (remainingMs !== undefined) (properties ??= {}).messageExpiryInterval = Math.min(0xffffffff, Math.ceil(remainingMs / 1000));
  if (source.contentType !== undefined) (properties ??= {}).contentType = source.contentType;
  if (source.replyTo !== undefined) (properties ??= {}).responseTopic = routingKeyToTopic(source.replyTo);
  const correlationData = message.headers[HEADER_CORRELATION_DATA];
  if (correlationData instanceof Uint8Array) (properties ??= {}).correlationData = bufferOf(correlationData);
  else if (source.correlationId !== undefined) (properties ??= {}).correlationData = Buffer.from(source.correlationId, 'utf8');
  if (message.headers[HEADER_PAYLOAD_FORMAT] === 1) (properties ??= {}).payloadFormatIndicator = true;
  const userProperties = userPropertiesOf(message.headers);
  if (userProperties) (properties ??= {}).userProperties = userProperties;
  return properties;
}

const INTERNAL_HEADERS: ReadonlySet<string> = new Set([HEADER_PUBLISH_QOS, HEADER_RETAIN, HEADER_CORRELATION_DATA, HEADER_PAYLOAD_FORMAT, HEADER_PUBLISHER]);

/** Headers as user properties: strings as they are, numbers and booleans as text; bytes and tables are left out. */
function userPropertiesOf(headers: HeaderTable): UserProperties | undefined {
  let out: UserProperties | undefined;
  for (const name in headers) {
    if (INTERNAL_HEADERS.has(name)) continue;
    const value = headers[name]!;
    if (Array.isArray(value)) {
      const texts = value.map(scalarHeaderText).filter((text): text is string => text !== undefined);
      if (texts.length > 0) (out ??= {})[name] = texts;
      continue;
    }
    const text = scalarHeaderText(value);
    if (text !== undefined) (out ??= {})[name] = text;
  }
  return out;
}


function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
