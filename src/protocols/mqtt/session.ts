/**
 * One MQTT connection: the state machine from CONNECT to the end of the connection, turning packets
 * into core calls (publish, declare, bind, consume, ack) and core deliveries into PUBLISHes.
 *
 * Packets are handled in arrival order; a packet whose handling waits (CONNECT, SUBSCRIBE, UNSUBSCRIBE)
 * holds the ones behind it until it is done. PUBLISH handling never waits: its PUBACK / PUBREC is sent
 * when the core says the message is durable (ordered-acks.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type {
  IConnackPacket,
  IConnectPacket,
  IPubackPacket,
  IPubcompPacket,
  IPublishPacket,
  IPubrecPacket,
  IPubrelPacket,
  ISubscribePacket,
  ISubscription,
  IUnsubscribePacket,
  Packet,
  QoS,
} from 'mqtt-packet';
import type { BindingDeclaration, Broker } from '../../core/broker.js';
import type { Channel, Delivery } from '../../core/channel.js';
import type { Connection } from '../../core/connection.js';
import { BrokerError, isBrokerError } from '../../core/errors.js';
import type { Authenticator, Logger, Principal, TimerHandle } from '../../core/ports.js';
import type { FlowGate } from '../../core/flow/queue-flow.js';
import type { ProtocolVersion } from './codec/connect-sniff.js';
import { MqttDecoder, type DecodeError } from './codec/decoder.js';
import { encodePacket, encodePublishHeader } from './codec/encoder.js';
import {
  publishedQos,
  remainingLifetimeMs,
  toCoreMessage,
  toPublishPacket,
  wasPublishedRetained,
  type InboundMessage,
  HEADER_PUBLISHER,
} from './convert.js';
import { publishWillMessage } from './wills.js';
import {
  ConnackV3,
  Reason,
  SUBACK_FAILURE_V3,
  connackCodeFor,
  publishFailureFor,
  publishFailureText,
  subackFailureFor,
  unsubackFailureFor,
} from './errors.js';
import { OrderedAcks, type PendingAck } from './ordered-acks.js';
import { PacketWriter } from './packet-writer.js';
import type { ClientState, OutboundFlight, SessionRegistry } from './session-registry.js';
import type { MqttStats } from './sys-topics.js';
import {
  MAX_CLIENT_ID_BYTES,
  SubscriptionSet,
  bindingFor,
  queueClassOf,
  sameBinding,
  subscriptionQueueName,
  type QueueClass,
  type Subscription,
} from './subscriptions.js';
import {
  memberBindingsOf,
  parseSharedFilter,
  sharedBinding,
  sharedMemberBinding,
  sharedQueueName,
  type SharedFilter,
  type SharedSubscription,
} from './shared-subscriptions.js';
import { isSharedSubscription, isValidTopicFilter, routingKeyToTopic, topicMatchesFilter, topicNameProblem } from './topics.js';

export interface MqttLimits {
  /** Largest packet accepted, fixed header included; advertised as Maximum Packet Size in 5.0. */
  readonly maxPacketBytes: number;
  /** QoS 1/2 deliveries a client may leave unacknowledged (5.0: at most its Receive Maximum). */
  readonly inflightWindow: number;
  /** Messages a persistent session's queue keeps while nobody consumes; the oldest go first beyond it. */
  readonly maxQueuedMessages: number;
  /** A connection that sends no CONNECT within this time is closed. */
  readonly connectTimeoutMs: number;
  /** QoS 1/2 publishes waiting to become durable before the connection stops reading. */
  readonly maxPendingPublishes: number;
  /**
   * 5.0 Receive Maximum advertised in CONNACK: QoS 1/2 publishes a client may have unacknowledged
   * (QoS 2 until PUBCOMP); one more gets DISCONNECT 0x93.
   */
  readonly receiveMaximum: number;
  /** 5.0 Topic Alias Maximum advertised in CONNACK: aliases a client may define (0: none). */
  readonly topicAliasMaximum: number;
  /**
   * Largest keep-alive accepted, in seconds (0: no cap). A 5.0 client asking for more, or for none, is
   * told this value as Server Keep Alive and held to it; a 3.1.1 client is held to it silently.
   */
  readonly maxKeepAliveSeconds: number;
  /** How often `$SYS/broker/...` statistics are published, in ms (0: never). */
  readonly sysIntervalMs: number;
}

export interface MqttSessionContext {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  readonly registry: SessionRegistry<MqttSession>;
  readonly limits: MqttLimits;
  readonly stats: MqttStats;
}

type State = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

interface Will {
  readonly message: InboundMessage;
  readonly delaySeconds: number;
}

interface EndOptions {
  /** 5.0 DISCONNECT reason code sent before closing (only once CONNACK was sent). */
  readonly reasonCode?: number;
  readonly publishWill: boolean;
  readonly why: string;
}

/** 5.0 Session Expiry Interval meaning "never expires" (3.3.2.3.2 / 3.1.2.11.2). */
const SESSION_NEVER_EXPIRES = 0xffffffff;
/** A closed socket the client does not close in turn is destroyed after this long. */
const CLOSE_GRACE_MS = 2000;
/** Packets queued behind a pending CONNECT / SUBSCRIBE before the connection stops reading. */
const MAX_QUEUED_PACKETS = 1024;
/** A PUBLISH body at least this large is written as it is after its header, not copied into the packet. */
const SEPARATE_PAYLOAD_BYTES = 512;
const NO_IDS: readonly number[] = [];

/**
 * The byte stream a session runs over: a TCP socket, or a WebSocket's stream (binary messages carry the
 * bytes; a packet may span messages, the decoder reassembles it).
 */
export type MqttTransport = Duplex;

export class MqttSession {
  private state: State = 'awaiting-connect';
  private version: ProtocolVersion = 4;
  private clientId = '';
  private principal: Principal | undefined;
  private connection: Connection | undefined;
  private channel: Channel | undefined;
  private client: ClientState | undefined;
  private subscriptions = new SubscriptionSet();
  /** Names of the session's queues per class, once declared or found. */
  private readonly queues: [string | undefined, string | undefined] = [undefined, undefined];
  private persistent = false;
  private sessionExpirySeconds = 0;
  private will: Will | undefined;
  private window: number;
  private clientMaxPacketBytes = Infinity;
  /** 5.0 Request Problem Information: reason strings on acknowledgements only when the client wants them. */
  private problemInformation = true;
  /** Inbound topic aliases of this connection (5.0 3.3.2.3.4); they never outlive it. */
  private readonly topicAliases = new Map<number, string>();
  /** Outbound aliases, topic -> alias, up to the client's Topic Alias Maximum (0: none). */
  private readonly outboundAliases = new Map<string, number>();
  private clientTopicAliasMaximum = 0;
  /** QoS 1 publishes whose PUBACK is not sent yet, for the Receive Maximum. */
  private inboundQos1Pending = 0;
  /** Shared subscriptions by their `$share/...` filter; they end with the connection. */
  private readonly shared = new Map<string, SharedSubscription>();
  /** Flights of shared-queue messages: another member may get them next, so they never outlive the connection. */
  private readonly sharedFlights = new Set<OutboundFlight>();
  private sharedConsumers = 0;
  /** QoS 1/2 deliveries waiting for a free slot of the client's Receive Maximum (see `deliver`). */
  private readonly parked: Delivery[] = [];
  private keepAliveMs = 0;
  private lastPacketAt = 0;
  private keepAliveTimer: TimerHandle | undefined;
  private connectTimer: TimerHandle | undefined;
  private closeTimer: TimerHandle | undefined;
  private readonly inbox: Packet[] = [];
  private busy = false;
  /** The CONNECT being handled: ending the session waits for it, so it never acts after the session ended. */
  private connectTask: Promise<void> | undefined;
  private readingPaused = false;
  /** The transport closed: what is left in the inbox is handled without holding back. */
  private socketClosed = false;
  /** A PUBLISH came while a resource alarm was on: the socket is not read until the alarm clears. */
  private stopWatchingAlarm: (() => void) | undefined;
  /** A PUBLISH went to a congested queue (core flow control): the socket is not read until it drains. */
  private stopWaitingForFlow: (() => void) | undefined;
  private readonly decoder: MqttDecoder;
  private readonly writer: PacketWriter;
  private readonly acks: OrderedAcks;
  private resolveEnded!: () => void;
  /** Resolves once the session is fully gone: socket closed, will handled, core connection closed. */
  readonly ended: Promise<void> = new Promise((resolve) => (this.resolveEnded = resolve));

  constructor(
    private readonly socket: MqttTransport,
    private readonly context: MqttSessionContext,
    private readonly remoteAddress: string,
  ) {
    this.window = context.limits.inflightWindow;
    this.decoder = new MqttDecoder(context.limits.maxPacketBytes, {
      packet: (packet) => this.receive(packet),
      error: (error) => this.decodeFailed(error),
    });
    this.writer = new PacketWriter(socket, (blocked) => this.channel?.setFlow(!blocked));
    this.acks = new OrderedAcks(
      (ack) => this.sendAck(ack),
      (error) => this.internalError(error, 'storing a published message failed'),
    );
    socket.on('data', (chunk: Buffer) => {
      // Keep-alive counts from the last bytes read: one clock read per chunk, not per packet in it.
      this.lastPacketAt = context.broker.clock.now();
      this.decoder.feed(chunk);
    });
    socket.on('error', (error) => this.context.logger.debug({ err: error, clientId: this.clientId }, 'mqtt socket error'));
    socket.on('close', () => {
      this.closeTimer?.cancel();
      this.socketClosed = true;
      // Packets read but held back by flow control are still the client's: a PUBLISH then DISCONNECT
      // (mosquitto_pub's whole session) must publish, and must not fire the will [MQTT-3.14.4-3].
      if (this.stopWaitingForFlow !== undefined) {
        this.stopWaitingForFlow();
        this.stopWaitingForFlow = undefined;
        if (this.state === 'connected') this.drainInbox();
      }
      void this.end({ publishWill: true, why: 'connection lost' });
    });
    this.connectTimer = context.broker.clock.setTimer(context.limits.connectTimeoutMs, () => {
      if (this.state === 'awaiting-connect') void this.end({ publishWill: false, why: 'no CONNECT in time' });
    });
  }

  /** A getter, so that checks after an await are not narrowed away by the compiler. */
  private get isClosed(): boolean {
    return this.state === 'closed';
  }

  // -------------------------------------------------------------------------------------------------
  // Incoming packets

  /** Connected: CONNACK sent and not closed yet. */
  get isConnected(): boolean {
    return this.state === 'connected';
  }

  private receive(packet: Packet): boolean {
    if (this.isClosed) return false;
    this.context.stats.packetsReceived += 1;
    // Held by flow control: the rest of the chunk waits too, so the queue gets no more than it asked for.
    if (this.busy || this.inbox.length > 0 || this.stopWaitingForFlow !== undefined) {
      this.inbox.push(packet);
      this.updateReading();
      return true;
    }
    this.dispatch(packet);
    return this.state !== 'closed';
  }

  private dispatch(packet: Packet): void {
    let pending: Promise<void> | undefined;
    try {
      pending = this.handle(packet);
    } catch (error) {
      this.internalError(error, `handling ${packet.cmd} failed`);
      return;
    }
    if (!pending) return;
    this.busy = true;
    pending.then(
      () => {
        this.busy = false;
        this.drainInbox();
      },
      (error: unknown) => {
        this.busy = false;
        this.internalError(error, `handling ${packet.cmd} failed`);
      },
    );
  }

  private drainInbox(): void {
    while (!this.busy && this.stopWaitingForFlow === undefined && this.state !== 'closed' && this.inbox.length > 0) {
      this.dispatch(this.inbox.shift()!);
    }
    this.updateReading();
  }

  /** Stops reading the socket while too much waits (queued packets, publishes not yet durable). */
  private updateReading(): void {
    const limits = this.context.limits;
    const overloaded =
      this.inbox.length >= MAX_QUEUED_PACKETS ||
      this.acks.pending >= limits.maxPendingPublishes ||
      this.stopWatchingAlarm !== undefined ||
      this.stopWaitingForFlow !== undefined;
    if (overloaded && !this.readingPaused) {
      this.readingPaused = true;
      this.socket.pause();
    } else if (!overloaded && this.readingPaused && this.state !== 'closed') {
      this.readingPaused = false;
      this.socket.resume();
    }
  }

  private handle(packet: Packet): Promise<void> | undefined {
    if (this.state === 'awaiting-connect') {
      // The decoder refuses a first packet other than CONNECT [MQTT-3.1.0-1].
      this.connectTask = this.onConnect(packet as IConnectPacket);
      return this.connectTask;
    }
    switch (packet.cmd) {
      case 'publish':
        this.onPublish(packet);
        return undefined;
      case 'puback':
        this.onPuback(packet);
        return undefined;
      case 'pubrec':
        this.onPubrec(packet);
        return undefined;
      case 'pubrel':
        this.onPubrel(packet);
        return undefined;
      case 'pubcomp':
        this.onPubcomp(packet);
        return undefined;
      case 'subscribe':
        return this.onSubscribe(packet);
      case 'unsubscribe':
        return this.onUnsubscribe(packet);
      case 'pingreq':
        this.write({ cmd: 'pingresp' }); // [MQTT-3.12.4-1]
        return undefined;
      case 'disconnect':
        this.onDisconnect(packet.reasonCode ?? 0);
        return undefined;
      case 'connect':
        this.protocolViolation(Reason.protocolError, 'a second CONNECT'); // [MQTT-3.1.0-2]
        return undefined;
      case 'auth':
        // Enhanced authentication (5.0 section 4.12) is not offered, so AUTH is out of place.
        this.protocolViolation(Reason.protocolError, 'AUTH without an authentication method');
        return undefined;
      default:
        this.protocolViolation(Reason.protocolError, `a ${packet.cmd} packet from a client`);
        return undefined;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // CONNECT

  private async onConnect(packet: IConnectPacket): Promise<void> {
    this.state = 'connecting';
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    const version = this.decoder.version ?? 4;
    this.version = version;
    const v5 = version === 5;

    // [MQTT-3.1.2-22] 3.1.1: a password needs a user name (5.0 allows it alone).
    if (!v5 && packet.password !== undefined && packet.username === undefined) {
      return this.refuse(Reason.protocolError, 'password without user name', false);
    }
    if (v5 && packet.properties?.authenticationMethod !== undefined) {
      return this.refuse(Reason.badAuthenticationMethod, 'enhanced authentication is not supported');
    }
    const cleanStart = packet.clean ?? true;
    let clientId = packet.clientId;
    let assigned = false;
    if (clientId === '') {
      if (!v5 && !cleanStart) {
        // [MQTT-3.1.3-8] a zero-byte identifier needs CleanSession = 1 in 3.1.1.
        return this.refuse(ConnackV3.identifierRejected, 'empty client identifier with a persistent session');
      }
      // [MQTT-3.1.3-6] 3.1.1 / [MQTT-3.1.3-6] 5.0: the server assigns a unique identifier.
      clientId = `courier-${randomBytes(12).toString('base64url')}`;
      assigned = true;
    }
    if (!usableClientId(clientId)) {
      return this.refuse(v5 ? Reason.clientIdentifierNotValid : ConnackV3.identifierRejected, 'client identifier not allowed');
    }
    if (packet.will && topicNameProblem(packet.will.topic) !== undefined) {
      return this.refuse(Reason.topicNameInvalid, 'invalid will topic', v5);
    }

    let principal: Principal;
    try {
      principal = await this.context.authenticator.authenticate({
        mechanism: packet.username === undefined ? 'ANONYMOUS' : 'PLAIN',
        username: packet.username ?? '',
        password: packet.password?.toString('utf8') ?? '',
        remoteAddress: this.remoteAddress,
        protocol: 'mqtt',
      });
    } catch (error) {
      const anonymous = packet.username === undefined && packet.password === undefined;
      const code = v5 && anonymous && isBrokerError(error, 'AUTHENTICATION_FAILED') ? Reason.notAuthorized : connackCodeFor(error, version);
      return this.refuse(code, 'authentication failed');
    }
    if (this.isClosed) return;
    this.principal = principal;
    this.clientId = clientId;

    // Stored session state (QoS 2 identifiers, delayed wills) is loaded once, when the adapter starts.
    const registry = this.context.registry;
    await registry.ready;
    if (this.isClosed) return;
    // Session takeover, [MQTT-3.1.4-2] (3.1.1) / [MQTT-3.1.4-3] (5.0): the older connection ends first, entirely,
    // so its exclusive queues and unacknowledged deliveries are settled before this session starts.
    const previous = registry.claim(clientId, this);
    if (previous) await previous.takeOver();
    if (this.isClosed) return;

    const properties = packet.properties;
    this.sessionExpirySeconds = v5 ? (properties?.sessionExpiryInterval ?? 0) : cleanStart ? 0 : SESSION_NEVER_EXPIRES;
    this.persistent = this.sessionExpirySeconds > 0;
    registry.settlePendingWill(clientId, cleanStart);
    if (v5) {
      if (properties?.receiveMaximum !== undefined) this.window = Math.min(this.window, properties.receiveMaximum);
      if (properties?.maximumPacketSize !== undefined) this.clientMaxPacketBytes = properties.maximumPacketSize;
      this.problemInformation = properties?.requestProblemInformation !== false;
      this.clientTopicAliasMaximum = properties?.topicAliasMaximum ?? 0;
    }
    if (packet.will) {
      this.will = {
        message: {
          topic: packet.will.topic,
          payload: ownedPayload(packet.will.payload),
          qos: packet.will.qos ?? 0,
          retain: packet.will.retain ?? false,
          properties: packet.will.properties,
        },
        delaySeconds: packet.will.properties?.willDelayInterval ?? 0,
      };
    }

    const broker = this.context.broker;
    let sessionPresent = false;
    let sharedMembers: ReturnType<typeof memberBindingsOf> = [];
    try {
      const connection = broker.connect(principal, { protocol: 'mqtt', remoteAddress: this.remoteAddress, clientId });
      this.connection = connection;
      // Management's close: 5.0 DISCONNECT 0x98 Administrative action; 3.1.1 has no DISCONNECT from the server, just the close.
      connection.onCloseRequest((reason) => this.end({ reasonCode: 0x98, publishWill: true, why: reason }));
      this.channel = connection.openChannel();
      const names = [subscriptionQueueName(clientId, 0), subscriptionQueueName(clientId, 1)] as const;
      if (cleanStart) {
        // [MQTT-3.1.2-6] (3.1.1) / [MQTT-3.1.2-4] (5.0): Clean Start discards any existing session.
        for (const name of names) {
          if (this.isClosed) return;
          if (broker.getQueue(name)) await connection.deleteQueue(name);
        }
        // Memberships of shared groups belong to the discarded session too.
        for (const member of memberBindingsOf(clientId, broker.listBindings())) {
          if (this.isClosed) return;
          await connection.unbind(member.binding);
        }
      } else {
        for (const queueClass of [0, 1] as const) if (broker.getQueue(names[queueClass])) this.queues[queueClass] = names[queueClass];
        const bindings = broker.listBindings();
        sharedMembers = memberBindingsOf(clientId, bindings);
        sessionPresent =
          this.queues[0] !== undefined ||
          this.queues[1] !== undefined ||
          sharedMembers.length > 0 ||
          registry.hasPersistentState(clientId, broker.clock.now());
        if (sessionPresent) this.subscriptions = SubscriptionSet.fromBindings(clientId, bindings);
      }
    } catch (error) {
      return this.refuse(connackCodeFor(error, version), 'opening the session failed');
    }
    if (this.isClosed) return;
    this.client = registry.stateFor(clientId, this.persistent, !sessionPresent);
    this.client.expiresAt = Infinity;

    const requestedKeepAlive = packet.keepalive ?? 0;
    const maxKeepAlive = this.context.limits.maxKeepAliveSeconds;
    // 3.1.1 cannot tell a client another keep-alive, so its own is kept.
    const capped = v5 && maxKeepAlive > 0 && (requestedKeepAlive === 0 || requestedKeepAlive > maxKeepAlive);
    const keepAlive = capped ? maxKeepAlive : requestedKeepAlive;
    this.write({
      cmd: 'connack',
      sessionPresent, // [MQTT-3.2.2-1] [MQTT-3.2.2-2] (3.1.1) / [MQTT-3.2.2-2] [MQTT-3.2.2-3] (5.0)
      ...(v5
        ? { reasonCode: Reason.success, properties: this.connackProperties(assigned ? clientId : undefined, keepAlive === requestedKeepAlive ? undefined : keepAlive) }
        : { returnCode: 0 }),
    });
    this.state = 'connected';
    // [MQTT-3.2.2-21] (5.0): with Server Keep Alive the client uses the server's value.
    this.keepAliveMs = keepAlive * 1000;
    this.armKeepAlive();
    // [MQTT-4.4.0-1]: unacknowledged PUBLISHes and PUBRELs are resent when a session resumes.
    for (const flight of this.client.flightsToResend()) this.resendFlight(flight);
    for (const queueClass of [0, 1] as const) if (this.queues[queueClass]) this.startConsumer(queueClass);
    for (const member of sharedMembers) this.joinShared(member.shared, member.qos, member.binding);
  }

  private connackProperties(assignedClientId: string | undefined, serverKeepAlive: number | undefined): NonNullable<IConnackPacket['properties']> {
    const limits = this.context.limits;
    return {
      ...(assignedClientId === undefined ? {} : { assignedClientIdentifier: assignedClientId }), // [MQTT-3.2.2-16]
      ...(serverKeepAlive === undefined ? {} : { serverKeepAlive }),
      maximumPacketSize: limits.maxPacketBytes,
      receiveMaximum: limits.receiveMaximum,
      // Left out when 0: the client must then not send aliases.
      ...(limits.topicAliasMaximum > 0 ? { topicAliasMaximum: limits.topicAliasMaximum } : {}),
      sharedSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
    };
  }

  /** Answers a CONNECT with a refusal and closes: [MQTT-3.2.2-5] (3.1.1) / [MQTT-3.2.2-7] (5.0). */
  private refuse(code: number, why: string, sendConnack = true): void {
    if (this.isClosed) return;
    if (sendConnack) {
      const v5 = this.version === 5;
      // A 5.0 reason code given to a 3.1.1 client means "refused" without a better code: not authorized.
      const returnCode = !v5 && code > ConnackV3.notAuthorized ? ConnackV3.notAuthorized : code;
      // A reason string is always allowed on CONNACK (5.0 3.1.2.11.7).
      this.write({ cmd: 'connack', sessionPresent: false, ...(v5 ? { reasonCode: code, properties: { reasonString: why } } : { returnCode }) });
    }
    this.context.logger.info({ clientId: this.clientId || undefined, code, why, remoteAddress: this.remoteAddress }, 'mqtt connection refused');
    void this.end({ publishWill: false, why });
  }

  // -------------------------------------------------------------------------------------------------
  // PUBLISH from the client

  private onPublish(packet: IPublishPacket): void {
    if (this.context.broker.alarms.blocked && !this.stopWatchingAlarm) this.blockUntilAlarmClears();
    const v5 = this.version === 5;
    if (packet.qos === 0 && packet.dup) {
      this.protocolViolation(Reason.malformedPacket, 'DUP set on a QoS 0 PUBLISH'); // [MQTT-3.3.1-2]
      return;
    }
    if (v5 && packet.properties?.topicAlias !== undefined && !this.resolveTopicAlias(packet, packet.properties.topicAlias)) return;
    if (v5 && packet.properties?.subscriptionIdentifier !== undefined) {
      this.protocolViolation(Reason.protocolError, 'a client PUBLISH must not carry a subscription identifier'); // [MQTT-3.3.4-6]
      return;
    }
    const problem = topicNameProblem(packet.topic);
    if (problem !== undefined) {
      // [MQTT-3.3.2-2] no wildcards in a topic name; [MQTT-4.7.3-1] at least one character.
      this.protocolViolation(Reason.topicNameInvalid, problem === 'empty' ? 'empty topic name' : 'wildcard in a topic name');
      return;
    }
    const client = this.client!;
    const packetId = packet.messageId ?? 0;
    if (packet.qos === 2 && client.inboundQos2.has(packetId)) {
      // A resent QoS 2 PUBLISH whose PUBREC was lost: acknowledge again, never publish twice [MQTT-4.3.3-10] (5.0).
      this.write(this.ackPacket({ packetId, kind: 'pubrec', reasonCode: Reason.success }));
      return;
    }
    if (v5 && packet.qos > 0 && this.inboundQos1Pending + client.inboundQos2.size >= this.context.limits.receiveMaximum) {
      this.protocolViolation(Reason.receiveMaximumExceeded, 'more unacknowledged QoS 1/2 publishes than the Receive Maximum'); // [MQTT-3.3.4-9]
      return;
    }
    const broker = this.context.broker;
    const payload = ownedPayload(packet.payload);
    const message = toCoreMessage(
      { topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, properties: packet.properties },
      // Arrival time, for a Message Expiry Interval: the clock read for the socket chunk it came in.
      this.lastPacketAt,
      this.clientId,
    );
    let outcome;
    try {
      outcome = this.connection!.publish(message);
    } catch (error) {
      this.publishRefused(packet, error);
      return;
    }
    if (outcome.flow !== undefined && this.stopWaitingForFlow === undefined) this.holdBackFor(outcome.flow);
    let durable: Promise<unknown> = outcome.durable;
    if (packet.retain) {
      // [MQTT-3.3.1-5] store as the topic's retained message; [MQTT-3.3.1-10] [MQTT-3.3.1-11] (3.1.1) /
      // [MQTT-3.3.1-6] [MQTT-3.3.1-7] (5.0): an empty payload removes it and is not stored. The
      // acknowledgement waits for both.
      const key = message.routingKey;
      const stored = payload.length === 0 ? broker.retained.clear(key) : broker.retained.set(key, message);
      durable = packet.qos === 0 ? outcome.durable : Promise.all([outcome.durable, stored]);
      if (packet.qos === 0) stored.catch((error: unknown) => this.context.logger.error({ err: error, clientId: this.clientId }, 'storing a retained message failed'));
    }
    if (packet.qos === 0) return;
    let reasonCode: number = Reason.success;
    if (outcome.rejected) reasonCode = Reason.quotaExceeded;
    else if (outcome.routed === 0) reasonCode = Reason.noMatchingSubscribers;
    // A refused QoS 2 message (reason >= 0x80) is new if sent again [MQTT-4.3.3-9] (5.0): not remembered.
    if (packet.qos === 2 && reasonCode < 0x80) {
      client.inboundQos2.add(packetId);
      const store = this.context.registry.store;
      if (this.persistent && store) {
        // Remembered durably, and PUBREC sent only once both the message and the identifier are stored:
        // a PUBLISH resent after a restart is then recognised and not published twice [MQTT-4.3.3-10] (5.0).
        durable = Promise.all([durable, store.saveId('inbound', this.clientId, packetId)]);
      }
    }
    if (packet.qos === 1) this.inboundQos1Pending += 1;
    const ack: PendingAck = { packetId, kind: packet.qos === 1 ? 'puback' : 'pubrec', reasonCode };
    // Transient traffic is durable as soon as it is stored: no promise turn per PUBACK.
    if (durable === outcome.durable && outcome.alreadyDurable) this.acks.ready(ack);
    else this.acks.push(ack, durable);
    this.updateReading();
  }

  /**
   * The core refused the publish (e.g. not authorized). 5.0 says so in the PUBACK / PUBREC; 3.1.1 has no
   * way to, and must acknowledge or close [MQTT-3.3.5-2]: it acknowledges, so the client does not resend forever.
   */
  private publishRefused(packet: IPublishPacket, error: unknown): void {
    this.context.logger.info({ err: error, clientId: this.clientId, topic: packet.topic }, 'mqtt publish refused');
    if (packet.qos === 0) return;
    const reasonCode = this.version === 5 ? publishFailureFor(error) : Reason.success;
    if (packet.qos === 1) this.inboundQos1Pending += 1;
    this.acks.push({ packetId: packet.messageId ?? 0, kind: packet.qos === 1 ? 'puback' : 'pubrec', reasonCode }, Promise.resolve());
  }

  private sendAck(ack: PendingAck): void {
    if (ack.kind === 'puback') this.inboundQos1Pending -= 1;
    if (this.state !== 'connected') return;
    this.write(this.ackPacket(ack));
    if (this.readingPaused) this.updateReading();
  }

  private ackPacket(ack: PendingAck): IPubackPacket | IPubrecPacket {
    const packet: IPubackPacket | IPubrecPacket = { cmd: ack.kind, messageId: ack.packetId };
    // 5.0: a success is sent as its two-byte short form (3.4.2.1), which the codec frames directly.
    if (this.version === 5 && ack.reasonCode === Reason.success) packet.reasonCode = Reason.success;
    else if (this.version === 5) {
      packet.reasonCode = ack.reasonCode;
      // [MQTT-3.1.2-29]: reason strings on acknowledgements only if the client asked for problem information.
      if (this.problemInformation && ack.reasonCode >= 0x80) packet.properties = { reasonString: publishFailureText(ack.reasonCode) };
    }
    return packet;
  }

  /**
   * Applies a 5.0 Topic Alias (3.3.2.3.4): a PUBLISH with a topic (re)defines the alias, one with an empty
   * topic uses it. Returns false when the connection was closed for a bad alias.
   */
  private resolveTopicAlias(packet: IPublishPacket, alias: number): boolean {
    if (alias === 0 || alias > this.context.limits.topicAliasMaximum) {
      this.protocolViolation(Reason.topicAliasInvalid, `topic alias ${alias} outside 1..${this.context.limits.topicAliasMaximum}`); // [MQTT-3.3.2-8] [MQTT-3.3.2-9]
      return false;
    }
    if (packet.topic !== '') {
      this.topicAliases.set(alias, packet.topic);
      return true;
    }
    const topic = this.topicAliases.get(alias);
    if (topic === undefined) {
      this.protocolViolation(Reason.protocolError, `topic alias ${alias} used before it was defined`);
      return false;
    }
    packet.topic = topic;
    return true;
  }

  private onPubrel(packet: IPubrelPacket): void {
    const packetId = packet.messageId ?? 0;
    const known = this.client!.inboundQos2.delete(packetId);
    // The message was published at PUBREC time; PUBREL only ends the exchange, answered by PUBCOMP [MQTT-4.3.3-11] (5.0).
    const reply: IPubcompPacket = { cmd: 'pubcomp', messageId: packetId };
    if (this.version === 5 && !known) reply.reasonCode = Reason.packetIdentifierNotFound;
    const store = this.context.registry.store;
    // The state's own flag: a session resumed without expiry still has the identifiers its persistent
    // predecessor stored.
    if (!known || !this.client!.persistent || !store) {
      this.write(reply);
      return;
    }
    // PUBCOMP once the identifier is durably forgotten: were it still stored after a crash, a new message
    // reusing it would be taken for a resend and dropped. Until then the client resends PUBREL.
    store.clearId('inbound', this.clientId, packetId).then(
      () => {
        if (this.state === 'connected') this.write(reply);
      },
      (error: unknown) => this.internalError(error, 'removing a stored QoS 2 packet identifier failed'),
    );
  }

  // -------------------------------------------------------------------------------------------------
  // Deliveries to the client

  private startConsumer(queueClass: QueueClass): void {
    const name = this.queues[queueClass]!;
    this.connection!.consume(
      this.channel!,
      name,
      {
        consumerTag: `mqtt-qos${queueClass}`,
        // QoS 0 deliveries are settled when sent; QoS 1/2 ones when the client completes the flow.
        noAck: queueClass === 0,
        prefetch: queueClass === 0 ? 0 : this.window,
      },
      {
        deliver: (delivery) => this.deliver(delivery, queueClass),
        cancelled: () => {
          // The queue was deleted under the session (by an operator): its subscriptions are gone too.
          this.queues[queueClass] = undefined;
          for (const subscription of [...this.subscriptions.values()]) {
            if (queueClassOf(subscription.qos) === queueClass) this.subscriptions.delete(subscription.filter);
          }
        },
      },
    );
  }

  private deliver(delivery: Delivery, queueClass: QueueClass): void {
    if (this.state !== 'connected') return; // the channel is closing: the delivery goes back to its queue
    const client = this.client!;
    const message = delivery.message;
    if (queueClass === 1) {
      const pending = client.flightOf(message);
      if (pending?.stage === 'pubrel') {
        // Its PUBREC came before the connection ended but the core delivery was not settled yet: the
        // client has the message (PUBREL was resent at CONNECT), the queue need not keep it.
        this.ackCore(delivery.deliveryTag);
        return;
      }
      if (pending) {
        // A message in flight when the previous connection ended: same packet identifier, DUP set [MQTT-4.4.0-1].
        pending.deliveryTag = delivery.deliveryTag;
        this.resendFlight(pending);
        return;
      }
      if (client.flightCount >= this.window) {
        // PUBREL-stage flights are settled in the core but still count against the client's Receive
        // Maximum until PUBCOMP [MQTT-4.9.0-2]: the delivery waits for a free slot.
        this.parked.push(delivery);
        return;
      }
    }
    let subscriptionQos: QoS = queueClass;
    let retainAsPublished = false;
    let subscriptionIds: readonly number[] = NO_IDS;
    if (this.subscriptions.matchingNeeded || message.routingKey.charCodeAt(0) === 0x24 /* $ */) {
      const fromSelf = message.headers[HEADER_PUBLISHER] === this.clientId;
      const match = this.subscriptions.match(routingKeyToTopic(message.routingKey), queueClass, fromSelf);
      if (!match) {
        this.settle(delivery, queueClass);
        return;
      }
      subscriptionQos = match.qos;
      retainAsPublished = match.retainAsPublished;
      // A session made by a 5.0 client may be resumed by a 3.1.1 one, which has no identifiers.
      if (this.version === 5) subscriptionIds = match.subscriptionIds;
    }
    const published = publishedQos(message);
    // Delivered at the lower of the published and the granted QoS (3.8.4 in both versions).
    const qos = published < subscriptionQos ? published : subscriptionQos;
    // [MQTT-3.3.1-9] (3.1.1): RETAIN is 0 on messages for established subscriptions; 5.0 keeps it with
    // Retain As Published [MQTT-3.3.1-13].
    const retain = this.version === 5 && retainAsPublished && wasPublishedRetained(message);
    const remaining = message.properties.expiration === undefined ? undefined : remainingLifetimeMs(message, this.context.broker.clock.now());
    if (qos === 0) {
      this.settle(delivery, queueClass);
      const packet = toPublishPacket(message, { qos: 0, retain, dup: false, messageId: undefined }, this.version, remaining);
      if (packet) this.sendPublish(withSubscriptionIds(packet, subscriptionIds));
      return;
    }
    const packetId = client.allocatePacketId();
    const built =
      packetId === undefined
        ? undefined
        : toPublishPacket(message, { qos, retain, dup: delivery.redelivered, messageId: packetId }, this.version, remaining);
    const packet = built && withSubscriptionIds(built, subscriptionIds);
    // Expired [MQTT-3.3.2-5], or too large for the client [MQTT-3.1.2-25]: dropped, not retried.
    if (!packet || !this.sendPublish(packet)) {
      this.settle(delivery, queueClass);
      return;
    }
    client.addFlight({
      packetId: packetId!,
      qos,
      stage: 'publish',
      message,
      retain,
      subscriptionIds,
      queue: delivery.queue,
      deliveryTag: delivery.deliveryTag,
      fromRetainedStore: false,
    });
  }

  /** Acknowledges a core delivery the client will not (or need not) acknowledge. */
  private settle(delivery: Delivery, queueClass: QueueClass): void {
    if (queueClass === 1) this.ackCore(delivery.deliveryTag);
  }

  private ackCore(deliveryTag: number | undefined): void {
    if (deliveryTag === undefined || !this.channel || this.channel.isClosed) return;
    try {
      this.channel.ack(deliveryTag);
    } catch (error) {
      this.context.logger.warn({ err: error, clientId: this.clientId }, 'acknowledging an mqtt delivery failed');
    }
  }

  private resendFlight(flight: OutboundFlight): void {
    if (flight.stage === 'pubrel' || !flight.message) {
      this.write({ cmd: 'pubrel', messageId: flight.packetId });
      return;
    }
    const remaining = remainingLifetimeMs(flight.message, this.context.broker.clock.now());
    const packet = toPublishPacket(
      flight.message,
      { qos: flight.qos, retain: flight.retain, dup: true, messageId: flight.packetId }, // [MQTT-3.3.1-1]
      this.version,
      // Once sent, a QoS 1/2 message is finished even if it expired meanwhile ([MQTT-4.3.3-7] for QoS 2).
      remaining === undefined ? undefined : Math.max(1, remaining),
    );
    // The same PUBLISH again, Subscription Identifiers included (5.0 3.3.4: a resend is the same packet);
    // a session resumed by a 3.1.1 client has none to send.
    if (packet) this.sendPublish(withSubscriptionIds(packet, this.version === 5 ? flight.subscriptionIds : NO_IDS));
  }

  /** Writes a PUBLISH unless it exceeds the client's Maximum Packet Size; returns whether it was sent. */
  private sendPublish(packet: IPublishPacket): boolean {
    const newAlias = this.clientTopicAliasMaximum > 0 ? this.applyTopicAlias(packet) : undefined;
    const payload = packet.payload;
    const header = typeof payload !== 'string' && payload.length >= SEPARATE_PAYLOAD_BYTES ? encodePublishHeader(packet, this.version) : undefined;
    const bytes = header === undefined ? this.encode(packet) : undefined;
    const size = header !== undefined ? header.length + payload.length : bytes?.length;
    if (size === undefined || size > this.clientMaxPacketBytes) {
      // The client never learnt this alias: it must not be used later.
      if (newAlias !== undefined) this.outboundAliases.delete(newAlias);
      return false;
    }
    this.context.stats.packetsSent += 1;
    if (header === undefined) this.writer.writeBytes(bytes!);
    else {
      this.writer.writeBytes(header);
      this.writer.writeBytes(payload as Uint8Array);
    }
    return true;
  }

  /**
   * Outbound Topic Alias (5.0 3.3.2.3.4): the first PUBLISH of a topic defines an alias while the client's
   * maximum allows, later ones send an empty topic. Returns the topic when this packet defines a new alias.
   */
  private applyTopicAlias(packet: IPublishPacket): string | undefined {
    const known = this.outboundAliases.get(packet.topic);
    if (known !== undefined) {
      packet.properties = { ...packet.properties, topicAlias: known };
      packet.topic = '';
      return undefined;
    }
    if (this.outboundAliases.size >= this.clientTopicAliasMaximum) return undefined;
    const alias = this.outboundAliases.size + 1; // never above the client's maximum [MQTT-3.3.2-9]
    this.outboundAliases.set(packet.topic, alias);
    packet.properties = { ...packet.properties, topicAlias: alias };
    return packet.topic;
  }

  private onPuback(packet: IPubackPacket): void {
    const flight = this.client!.flight(packet.messageId ?? 0);
    if (!flight || flight.qos !== 1) return; // unknown identifiers are ignored
    this.completeFlight(flight);
  }

  private onPubrec(packet: IPubrecPacket): void {
    const packetId = packet.messageId ?? 0;
    const flight = this.client!.flight(packetId);
    if (!flight || flight.qos !== 2) {
      const reply: IPubrelPacket = { cmd: 'pubrel', messageId: packetId };
      if (this.version === 5) reply.reasonCode = Reason.packetIdentifierNotFound;
      this.write(reply);
      return;
    }
    if (this.version === 5 && (packet.reasonCode ?? 0) >= 0x80) {
      // The client refused the message: the exchange ends here (5.0 4.3.3).
      this.completeFlight(flight);
      return;
    }
    if (flight.stage === 'pubrel') {
      this.write({ cmd: 'pubrel', messageId: packetId }); // a repeated PUBREC
      return;
    }
    // The client owns the message now [MQTT-4.3.3-5] (3.1.1 4.3.3): what remains is its packet identifier,
    // and the core delivery is settled (a shared-queue message can no longer go to another member). A
    // persistent session stores the identifier in the same turn and sends PUBREL once both the record and
    // the settlement are durable, so that after a restart the flow resumes with PUBREL rather than a second
    // PUBLISH [MQTT-4.4.0-1].
    flight.stage = 'pubrel';
    this.ackCore(flight.deliveryTag);
    flight.deliveryTag = undefined;
    this.sharedFlights.delete(flight);
    const sendPubrel = (): void => {
      // Not when the flow ended meanwhile; after a reconnect, CONNECT resent it.
      if (this.state === 'connected' && this.client?.flight(packetId) === flight) this.write({ cmd: 'pubrel', messageId: packetId }); // [MQTT-4.3.3-4] (5.0)
    };
    const store = this.context.registry.store;
    if (!this.persistent || !store || flight.fromRetainedStore) {
      sendPubrel();
      return;
    }
    Promise.all([store.saveId('pubrel', this.clientId, packetId), this.settlementDurable(flight.queue)]).then(sendPubrel, (error: unknown) =>
      this.internalError(error, 'storing a PUBREL state failed'),
    );
  }

  /**
   * Resolves once the settlements made so far on `queue` are durable. The queue writes a turn's
   * settlements in a microtask queued by the ack, so the flush is asked for after it.
   */
  private async settlementDurable(queueName: string | undefined): Promise<void> {
    const queue = queueName === undefined ? undefined : this.context.broker.getQueue(queueName);
    if (!queue?.durable) return;
    await Promise.resolve();
    await queue.flush();
  }

  private onPubcomp(packet: IPubcompPacket): void {
    const flight = this.client!.flight(packet.messageId ?? 0);
    if (!flight || flight.qos !== 2 || flight.stage !== 'pubrel') return;
    const store = this.context.registry.store;
    if (this.client!.persistent && store && !flight.fromRetainedStore) {
      store.clearId('pubrel', this.clientId, flight.packetId).catch((error: unknown) =>
        this.context.logger.error({ err: error, clientId: this.clientId }, 'removing a stored PUBREL state failed'),
      );
    }
    this.completeFlight(flight);
  }

  /** The client has the message: forget the flight and settle its core delivery. */
  private completeFlight(flight: OutboundFlight): void {
    this.client!.removeFlight(flight);
    this.sharedFlights.delete(flight);
    this.ackCore(flight.deliveryTag);
    // A slot of the client's Receive Maximum is free again.
    const parked = this.parked.shift();
    if (parked) this.deliver(parked, 1);
  }

  // -------------------------------------------------------------------------------------------------
  // SUBSCRIBE / UNSUBSCRIBE

  private async onSubscribe(packet: ISubscribePacket): Promise<void> {
    const v5 = this.version === 5;
    const subscriptionId = v5 ? packet.properties?.subscriptionIdentifier : undefined;
    if (subscriptionId === 0) {
      this.protocolViolation(Reason.protocolError, 'subscription identifier 0'); // 5.0 3.8.2.1.2
      return;
    }
    for (const requested of packet.subscriptions) {
      if (!isValidTopicFilter(requested.topic)) {
        // [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1]: a malformed filter closes the connection.
        this.protocolViolation(Reason.topicFilterInvalid, `invalid topic filter '${requested.topic}'`);
        return;
      }
    }
    const granted: number[] = [];
    const retainedFor: { subscription: Subscription; handling: number; isNew: boolean }[] = [];
    for (const requested of packet.subscriptions) {
      if (isSharedSubscription(requested.topic)) {
        if (requested.nl) {
          this.protocolViolation(Reason.protocolError, 'No Local on a shared subscription'); // [MQTT-3.8.3-4]
          return;
        }
        granted.push(await this.subscribeShared(requested));
        if (this.state !== 'connected') return;
        continue;
      }
      try {
        const { subscription, isNew } = await this.subscribe(requested, subscriptionId);
        granted.push(subscription.qos); // [MQTT-3.9.3-1] one code per filter, in order
        retainedFor.push({ subscription, handling: requested.rh ?? 0, isNew });
      } catch (error) {
        this.context.logger.info({ err: error, clientId: this.clientId, filter: requested.topic }, 'mqtt subscription refused');
        granted.push(subackFailureFor(error, this.version));
      }
      if (this.state !== 'connected') return;
    }
    this.write({ cmd: 'suback', messageId: packet.messageId ?? 0, granted });
    for (const { subscription, handling, isNew } of retainedFor) {
      // Retain Handling (5.0 3.3.1.3): 0 always, 1 only for a new subscription, 2 never. [MQTT-3.3.1-9..11]
      if (handling === 2 || (handling === 1 && !isNew)) continue;
      await this.sendRetained(subscription);
      if (this.state !== 'connected') return;
    }
  }

  private async subscribe(requested: ISubscription, subscriptionId: number | undefined): Promise<{ subscription: Subscription; isNew: boolean }> {
    const queueClass = queueClassOf(requested.qos);
    await this.ensureQueue(queueClass);
    const options = { retainAsPublished: requested.rap ?? false, noLocal: requested.nl ?? false, subscriptionId };
    const binding = bindingFor(this.clientId, requested.topic, requested.qos, options);
    const subscription: Subscription = { filter: requested.topic, qos: requested.qos, ...options, binding };
    const existing = this.subscriptions.get(requested.topic);
    if (existing && sameBinding(existing.binding, binding)) return { subscription: existing, isNew: false };
    // A new subscription for an existing filter replaces it [MQTT-3.8.4-3]: bound first, so no message
    // falls between the two.
    await this.connection!.bind(binding);
    if (existing) await this.connection!.unbind(existing.binding);
    this.subscriptions.set(subscription);
    return { subscription, isNew: existing === undefined };
  }

  /** Joins the group's queue (declared and bound by its first member); returns the SUBACK code. */
  private async subscribeShared(requested: ISubscription): Promise<number> {
    const parsed = parseSharedFilter(requested.topic);
    if (!parsed) return this.version === 5 ? Reason.topicFilterInvalid : SUBACK_FAILURE_V3;
    const existing = this.shared.get(requested.topic);
    const connection = this.connection!;
    if (existing) {
      // Re-subscribing changes only the QoS this member gets: the queue and binding are the group's.
      if (existing.memberBinding && existing.qos !== requested.qos) {
        try {
          const binding = sharedMemberBinding(parsed, this.clientId, requested.qos);
          await connection.bind(binding);
          await connection.unbind(existing.memberBinding);
          existing.memberBinding = binding;
        } catch (error) {
          return subackFailureFor(error, this.version);
        }
      }
      existing.qos = requested.qos;
      return requested.qos;
    }
    const queue = sharedQueueName(parsed);
    let memberBinding: BindingDeclaration | undefined;
    try {
      if (this.context.broker.getQueue(queue)) {
        await connection.declareQueue({ name: queue }, true);
      } else if (this.persistent) {
        // Members with persistent sessions keep the group's messages while all of them are away.
        const args = { 'x-max-length': this.context.limits.maxQueuedMessages, 'x-overflow': 'drop-head' };
        await connection.declareQueue({ name: queue, durable: true, arguments: args });
      } else {
        await connection.declareQueue({ name: queue, durable: false, autoDelete: true });
      }
      await connection.bind(sharedBinding(parsed));
      if (this.persistent) {
        // The session remembers the membership (5.0 4.1: its subscriptions are session state).
        memberBinding = sharedMemberBinding(parsed, this.clientId, requested.qos);
        await connection.bind(memberBinding);
      }
    } catch (error) {
      this.context.logger.info({ err: error, clientId: this.clientId, filter: requested.topic }, 'mqtt shared subscription refused');
      return subackFailureFor(error, this.version);
    }
    if (this.state !== 'connected') return requested.qos;
    this.joinShared(parsed, requested.qos, memberBinding);
    return requested.qos;
  }

  /** Consumes the group's queue as one of its members (new subscription, or a membership resumed at CONNECT). */
  private joinShared(parsed: SharedFilter, qos: QoS, memberBinding: BindingDeclaration | undefined): void {
    const topic = `$share/${parsed.group}/${parsed.filter}`;
    const queue = sharedQueueName(parsed);
    this.sharedConsumers += 1;
    const subscription: SharedSubscription = { ...parsed, topic, qos, queue, consumerTag: `mqtt-share-${this.sharedConsumers}`, memberBinding };
    try {
      this.connection!.consume(
        this.channel!,
        queue,
        { consumerTag: subscription.consumerTag, prefetch: this.window },
        { deliver: (delivery) => this.deliverShared(delivery, subscription), cancelled: () => this.shared.delete(topic) },
      );
    } catch (error) {
      // The group's queue is gone (deleted by an operator): so is the membership.
      this.context.logger.info({ err: error, clientId: this.clientId, filter: topic }, 'mqtt shared subscription not resumed');
      return;
    }
    this.shared.set(topic, subscription);
  }

  /** One member's share of the group's messages, at the lower of the published QoS and this member's. */
  private deliverShared(delivery: Delivery, subscription: SharedSubscription): void {
    if (this.state !== 'connected') return; // the channel is closing: the delivery goes back to the queue
    const message = delivery.message;
    const published = publishedQos(message);
    const qos = published < subscription.qos ? published : subscription.qos;
    const remaining = remainingLifetimeMs(message, this.context.broker.clock.now());
    // [MQTT-4.7.2-1]: `$` topics are not for filters starting with a wildcard, shared ones included.
    const hidden = message.routingKey.charCodeAt(0) === 0x24 && !topicMatchesFilter(routingKeyToTopic(message.routingKey), subscription.filter);
    const client = this.client!;
    const packetId = qos === 0 || hidden ? undefined : client.allocatePacketId();
    const packet =
      hidden || (qos > 0 && packetId === undefined)
        ? undefined
        : toPublishPacket(message, { qos, retain: false, dup: delivery.redelivered && qos > 0, messageId: packetId }, this.version, remaining);
    if (!packet || !this.sendPublish(packet) || qos === 0) {
      this.ackCore(delivery.deliveryTag);
      return;
    }
    const flight: OutboundFlight = {
      packetId: packetId!,
      qos,
      stage: 'publish',
      message,
      retain: false,
      subscriptionIds: NO_IDS,
      queue: delivery.queue,
      deliveryTag: delivery.deliveryTag,
      fromRetainedStore: false,
    };
    client.addFlight(flight);
    this.sharedFlights.add(flight);
  }

  private async ensureQueue(queueClass: QueueClass): Promise<void> {
    if (this.queues[queueClass]) return;
    const name = subscriptionQueueName(this.clientId, queueClass);
    const connection = this.connection!;
    if (this.context.broker.getQueue(name)) {
      // Left by an earlier session of this client: used as it is.
      await connection.declareQueue({ name }, true);
    } else if (this.persistent) {
      const args: Record<string, number | string> = {
        'x-max-length': this.context.limits.maxQueuedMessages,
        'x-overflow': 'drop-head',
      };
      // The session expires when its queues stay unused this long (5.0 Session Expiry Interval).
      if (this.sessionExpirySeconds !== SESSION_NEVER_EXPIRES) args['x-expires'] = this.sessionExpirySeconds * 1000;
      await connection.declareQueue({ name, durable: true, arguments: args });
    } else {
      await connection.declareQueue({ name, durable: false, exclusive: true, autoDelete: true });
    }
    if (this.state !== 'connected') return;
    this.queues[queueClass] = name;
    this.startConsumer(queueClass);
  }

  private async sendRetained(subscription: Subscription): Promise<void> {
    const broker = this.context.broker;
    const matches = await broker.retained.match(subscription.binding.routingKey);
    if (this.state !== 'connected') return;
    const now = broker.clock.now();
    const dollarHidden = subscription.filter.startsWith('+') || subscription.filter.startsWith('#');
    const ids = subscription.subscriptionId === undefined || this.version !== 5 ? NO_IDS : [subscription.subscriptionId];
    for (const { key, message } of matches) {
      if (dollarHidden && key.startsWith('$')) continue; // [MQTT-4.7.2-1]
      const published = publishedQos(message);
      const qos = published < subscription.qos ? published : subscription.qos;
      const remaining = remainingLifetimeMs(message, now);
      if (qos === 0) {
        // [MQTT-3.3.1-8] (3.1.1) / [MQTT-3.3.1-9] (5.0): sent with RETAIN set.
        const packet = toPublishPacket(message, { qos: 0, retain: true, dup: false, messageId: undefined }, this.version, remaining);
        if (packet) this.sendPublish(withSubscriptionIds(packet, ids));
        continue;
      }
      const packetId = this.client!.allocatePacketId();
      if (packetId === undefined) return;
      const packet = toPublishPacket(message, { qos, retain: true, dup: false, messageId: packetId }, this.version, remaining);
      if (!packet || !this.sendPublish(withSubscriptionIds(packet, ids))) continue;
      this.client!.addFlight({
        packetId,
        qos,
        stage: 'publish',
        message,
        retain: true,
        subscriptionIds: ids,
        queue: undefined,
        deliveryTag: undefined,
        fromRetainedStore: true,
      });
    }
  }

  private async onUnsubscribe(packet: IUnsubscribePacket): Promise<void> {
    const codes: number[] = [];
    for (const filter of packet.unsubscriptions) {
      const shared = this.shared.get(filter);
      if (shared) {
        // Only this member leaves: the group's queue and binding stay for the others (an auto-delete
        // queue goes with its last consumer).
        this.shared.delete(filter);
        this.channel?.cancel(shared.consumerTag);
        try {
          if (shared.memberBinding) await this.connection!.unbind(shared.memberBinding);
          codes.push(Reason.success);
        } catch (error) {
          codes.push(unsubackFailureFor(error));
        }
        if (this.state !== 'connected') return;
        continue;
      }
      const existing = this.subscriptions.get(filter);
      if (!existing) {
        codes.push(Reason.noSubscriptionExisted);
        continue;
      }
      try {
        await this.connection!.unbind(existing.binding);
        this.subscriptions.delete(filter);
        codes.push(Reason.success);
      } catch (error) {
        codes.push(unsubackFailureFor(error));
      }
      if (this.state !== 'connected') return;
    }
    // An UNSUBACK even when nothing was removed (3.10.4 in both versions).
    this.write(this.version === 5 ? { cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: codes } : { cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
  }

  // -------------------------------------------------------------------------------------------------
  // DISCONNECT, keep-alive, errors and the end of the session

  private onDisconnect(reasonCode: number): void {
    // [MQTT-3.14.4-3] (3.1.1) / [MQTT-3.1.2-10] (5.0): a normal DISCONNECT discards the will; 5.0 reason
    // 0x04 "Disconnect with Will Message" asks for it.
    void this.end({ publishWill: this.version === 5 && reasonCode === 0x04, why: 'client disconnected' });
  }

  /**
   * MQTT has no "blocked" packet: as RabbitMQ's MQTT plugin does, the publisher is simply not read (TCP
   * pushes back) while a memory or disk alarm is on. This publish is still taken; the next wait.
   */
  private blockUntilAlarmClears(): void {
    const alarms = this.context.broker.alarms; // blocked: onPublish calls this only during an alarm
    this.stopWatchingAlarm = alarms.onceClear(() => {
      this.stopWatchingAlarm = undefined;
      if (this.connection) this.connection.publishBlocked = false;
      // Its PINGREQs were not read meanwhile: the keep-alive counts from now.
      this.lastPacketAt = this.context.broker.clock.now();
      if (!this.isClosed) this.updateReading();
    });
    if (this.connection) this.connection.publishBlocked = true;
    this.context.logger.debug({ clientId: this.clientId, reason: alarms.reason }, 'mqtt publisher blocked by a resource alarm');
    this.updateReading();
  }

  /**
   * Flow control: a queue this publish went to has more backlog than its consumers are draining, so the
   * publisher is not read (TCP pushes back) until the queue drains or the core gives up holding it.
   */
  private holdBackFor(gate: FlowGate): void {
    if (this.socketClosed) return;
    this.stopWaitingForFlow = gate.onceOpen(() => {
      this.stopWaitingForFlow = undefined;
      if (this.connection) this.connection.publishHeld = false;
      this.lastPacketAt = this.context.broker.clock.now();
      if (!this.isClosed) this.drainInbox();
    });
    if (this.connection) this.connection.publishHeld = true;
    this.updateReading();
  }

  private armKeepAlive(): void {
    if (this.keepAliveMs === 0 || this.state !== 'connected') return;
    const clock = this.context.broker.clock;
    // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0): one and a half times the Keep Alive.
    const limit = this.keepAliveMs * 1.5;
    const due = this.lastPacketAt + limit - clock.now();
    this.keepAliveTimer = clock.setTimer(Math.max(0, due), () => {
      this.keepAliveTimer = undefined;
      if (this.state !== 'connected') return;
      // A publisher the broker stopped reading (resource alarm) is not timed out for the silence it was made to keep.
      if (clock.now() - this.lastPacketAt >= limit && this.stopWatchingAlarm === undefined && this.stopWaitingForFlow === undefined) {
        void this.end({ reasonCode: Reason.keepAliveTimeout, publishWill: true, why: 'keep-alive timeout' });
      } else {
        this.armKeepAlive();
      }
    });
  }

  private decodeFailed(error: DecodeError): void {
    switch (error.kind) {
      case 'unsupported-level':
        // [MQTT-3.1.2-2]: 3.1.1 answers 0x01 in its format; a client of a later level than 5 gets 5.0's 0x84.
        this.writer.writeBytes(
          error.level > 5 ? Buffer.from([0x20, 0x03, 0x00, Reason.unsupportedProtocolVersion, 0x00]) : Buffer.from([0x20, 0x02, 0x00, ConnackV3.unacceptableProtocolVersion]),
        );
        void this.end({ publishWill: false, why: `unsupported protocol level ${error.level}` });
        return;
      case 'too-large':
        this.protocolViolation(Reason.packetTooLarge, `packet of ${error.size} bytes exceeds the maximum`);
        return;
      case 'protocol':
        this.protocolViolation(Reason.protocolError, error.detail);
        return;
      case 'malformed':
        this.protocolViolation(Reason.malformedPacket, error.detail);
        return;
    }
  }

  /** A client broke the protocol: 5.0 gets a DISCONNECT with the reason; the will is published [MQTT-3.1.2-8]. */
  private protocolViolation(reasonCode: number, why: string): void {
    this.context.logger.info({ clientId: this.clientId || undefined, reasonCode, why, remoteAddress: this.remoteAddress }, 'mqtt protocol violation');
    void this.end({ reasonCode, publishWill: true, why });
  }

  private internalError(error: unknown, why: string): void {
    if (this.isClosed) return;
    this.context.logger.error({ err: error, clientId: this.clientId || undefined }, why);
    void this.end({ reasonCode: Reason.unspecifiedError, publishWill: true, why });
  }

  /** Ends this session because another connection claimed its client identifier. */
  takeOver(): Promise<void> {
    return this.end({ reasonCode: Reason.sessionTakenOver, publishWill: true, why: 'session taken over' });
  }

  /** Ends this session because the server stops; the will is not sent (the session outlives the restart). */
  shutdown(): Promise<void> {
    return this.end({ reasonCode: Reason.serverShuttingDown, publishWill: false, why: 'server shutting down' });
  }

  private end(options: EndOptions): Promise<void> {
    if (this.isClosed) return this.ended;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.connectTimer?.cancel();
    this.keepAliveTimer?.cancel();
    this.stopWatchingAlarm?.();
    this.stopWaitingForFlow?.();
    if (wasConnected && this.version === 5 && options.reasonCode !== undefined) {
      // A reason string is always allowed on DISCONNECT (5.0 3.1.2.11.7); 0x8B and 0x8E need none.
      // Never past the client's Maximum Packet Size [MQTT-3.14.2-3].
      const explain =
        options.reasonCode !== Reason.serverShuttingDown &&
        options.reasonCode !== Reason.sessionTakenOver &&
        Buffer.byteLength(options.why) + 16 <= this.clientMaxPacketBytes;
      this.write({ cmd: 'disconnect', reasonCode: options.reasonCode, ...(explain ? { properties: { reasonString: options.why } } : {}) });
    }
    this.closeSocket();
    this.context.logger.debug({ clientId: this.clientId || undefined, why: options.why }, 'mqtt session ended');
    void this.release(options.publishWill && wasConnected).finally(() => this.resolveEnded());
    return this.ended;
  }

  private closeSocket(): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.end();
    // A client that never closes its side must not hold the socket open.
    this.closeTimer = this.context.broker.clock.setTimer(CLOSE_GRACE_MS, () => socket.destroy());
  }

  private async release(publishWill: boolean): Promise<void> {
    const registry = this.context.registry;
    try {
      // A CONNECT still in progress stops at its next step (it sees the session closed); wait for that,
      // so a successor taking over this client id never races with it.
      await this.connectTask?.catch(() => undefined);
      if (publishWill) this.publishWill();
      if (this.clientId) registry.release(this.clientId, this);
      const connection = this.connection;
      if (connection) {
        // Flights wait for their messages to come back: closing the channel returns them to their queues.
        // Shared-queue messages may go to another member, so their flights end here (PUBREL-stage ones,
        // settled in the core, stay: the client owns those messages and gets the PUBREL on return).
        for (const flight of this.sharedFlights) if (flight.stage === 'publish') this.client?.removeFlight(flight);
        this.sharedFlights.clear();
        this.parked.length = 0;
        if (this.persistent && this.client) {
          this.client.detachFlights();
          if (this.sessionExpirySeconds !== SESSION_NEVER_EXPIRES) {
            this.client.expiresAt = this.context.broker.clock.now() + this.sessionExpirySeconds * 1000;
          }
        }
        connection.closeChannels();
        if (!this.persistent) {
          // Queues of an earlier persistent session this non-persistent one resumed end with it, and so
          // do its memberships of shared groups.
          for (const queueClass of [0, 1] as const) {
            const name = this.queues[queueClass];
            if (name && this.context.broker.getQueue(name)?.durable) await connection.deleteQueue(name);
          }
          for (const shared of this.shared.values()) if (shared.memberBinding) await connection.unbind(shared.memberBinding);
        }
        await connection.close();
      }
      if (this.client && !this.persistent) registry.dropState(this.clientId, this.client);
    } catch (error) {
      if (!isBrokerError(error, 'BROKER_CLOSED')) {
        this.context.logger.error({ err: error, clientId: this.clientId }, 'ending an mqtt session failed');
      }
    }
  }

  private publishWill(): void {
    const will = this.will;
    const principal = this.principal;
    if (!will || !principal) return;
    const broker = this.context.broker;
    const logger = this.context.logger;
    const clientId = this.clientId;
    const now = broker.clock.now();
    const message = toCoreMessage(will.message, now);
    const publish = (): void => publishWillMessage(broker, logger, clientId, principal, message);
    // 5.0 Will Delay Interval (3.1.3.2.2): the will waits, and is dropped if the client reconnects first;
    // it is sent when the session ends if that comes sooner. It is stored, so a restart keeps it: the
    // delay counts from this disconnect.
    const delaySeconds = this.version === 5 ? Math.min(will.delaySeconds, this.sessionExpirySeconds) : 0;
    if (delaySeconds > 0) {
      const delayMs = delaySeconds * 1000;
      this.context.registry.scheduleWill(clientId, delayMs, publish, { clientId, dueAt: now + delayMs, principal, message });
    } else {
      publish();
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Writing

  private write(packet: Packet): void {
    const bytes = this.encode(packet);
    if (!bytes) return;
    this.context.stats.packetsSent += 1;
    this.writer.writeBytes(bytes);
  }

  private encode(packet: Packet): Buffer | undefined {
    try {
      return encodePacket(packet, this.version);
    } catch (error) {
      // mqtt-packet refuses packets it cannot represent (e.g. a user property value it cannot encode).
      this.context.logger.error(
        { err: new BrokerError('INTERNAL', `cannot encode an mqtt ${packet.cmd} packet`, undefined, { cause: error }), clientId: this.clientId },
        'mqtt encode failed',
      );
      return undefined;
    }
  }
}

const encoder = new TextEncoder();

/**
 * The payload as the core keeps it. A payload is a view into the socket's read buffer; a small one is
 * copied so that a queued message does not keep a whole (up to 64 KiB) read buffer alive.
 */
/** Adds the Subscription Identifiers of the matching subscriptions (5.0 3.3.2.3.8) to an outgoing PUBLISH. */
function withSubscriptionIds(packet: IPublishPacket, ids: readonly number[]): IPublishPacket {
  if (ids.length === 0) return packet;
  packet.properties = { ...packet.properties, subscriptionIdentifier: ids.length === 1 ? ids[0]! : [...ids] };
  return packet;
}

function ownedPayload(payload: Buffer | string): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload);
  return payload.byteLength * 2 < payload.buffer.byteLength ? Buffer.from(payload) : payload;
}

/** Client identifiers become part of queue names: those limits apply (no control characters, bounded length). */
function usableClientId(clientId: string): boolean {
  if (encoder.encode(clientId).byteLength > MAX_CLIENT_ID_BYTES) return false;
  for (let i = 0; i < clientId.length; i++) {
    const code = clientId.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}
