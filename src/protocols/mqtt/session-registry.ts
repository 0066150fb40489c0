/**
 * What the MQTT adapter knows about clients beyond one connection: which connection currently holds
 * each client identifier (for session takeover), the in-memory part of persistent sessions (packet
 * identifiers in flight both ways, so a reconnecting client gets its QoS 1/2 flows completed with the
 * same identifiers), and wills waiting for their Will Delay Interval.
 *
 * Subscriptions and queued messages of persistent sessions live in the core (durable queues and their
 * bindings) and survive restarts; this in-memory part does not (docs/protocols/mqtt.md, limits).
 */
import type { Message } from '../../core/message/message.js';
import type { Clock, TimerHandle } from '../../core/ports.js';

/** A QoS 1 or 2 PUBLISH sent to the client and not yet completed. */
export interface OutboundFlight {
  readonly packetId: number;
  readonly qos: 1 | 2;
  /** 'publish' until PUBREC (QoS 2), then 'pubrel' until PUBCOMP. */
  stage: 'publish' | 'pubrel';
  readonly message: Message;
  readonly retain: boolean;
  /**
   * The core delivery to ack when the flow completes, in the current connection's channel. Undefined
   * while the flight waits for its message to be redelivered after a reconnect, and always for retained
   * messages sent on subscribe (they have no core delivery and are resent by the session itself).
   */
  deliveryTag: number | undefined;
  readonly fromRetainedStore: boolean;
}

const MAX_PACKET_ID = 0xffff;

export class ClientState {
  /** QoS 2 packet identifiers received and answered with PUBREC, until PUBREL [MQTT-4.3.3-10] (5.0). */
  readonly inboundQos2 = new Set<number>();
  private readonly flights = new Map<number, OutboundFlight>();
  /** Redelivered messages are the same objects as the ones returned to the queue: this finds their flight. */
  private readonly flightsByMessage = new Map<Message, OutboundFlight>();
  private nextPacketId = 1;
  /** When the session expires once its connection is gone (Infinity while connected or never). */
  expiresAt = Infinity;

  constructor(readonly persistent: boolean) {}

  get flightCount(): number {
    return this.flights.size;
  }

  flight(packetId: number): OutboundFlight | undefined {
    return this.flights.get(packetId);
  }

  flightOf(message: Message): OutboundFlight | undefined {
    return this.flightsByMessage.get(message);
  }

  /** A packet identifier no flight uses [MQTT-2.2.1-3] (2.3.1 in 5.0); undefined when all 65535 are taken. */
  allocatePacketId(): number | undefined {
    if (this.flights.size >= MAX_PACKET_ID) return undefined;
    for (;;) {
      const id = this.nextPacketId;
      this.nextPacketId = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!this.flights.has(id)) return id;
    }
  }

  addFlight(flight: OutboundFlight): void {
    this.flights.set(flight.packetId, flight);
    this.flightsByMessage.set(flight.message, flight);
  }

  removeFlight(flight: OutboundFlight): void {
    this.flights.delete(flight.packetId);
    if (this.flightsByMessage.get(flight.message) === flight) this.flightsByMessage.delete(flight.message);
  }

  /** The connection ended: core deliveries are returned to their queues and will come back with new tags. */
  detachFlights(): void {
    for (const flight of this.flights.values()) flight.deliveryTag = undefined;
  }

  /** Flights of retained messages, which nothing redelivers: the session resends them on reconnect. */
  retainedFlights(): OutboundFlight[] {
    return [...this.flights.values()].filter((flight) => flight.fromRetainedStore);
  }
}

/** What the registry needs of a connection's session. */
export interface RegisteredSession {
  /** Ends the session because another connection took its client identifier; resolves once it is gone. */
  takeOver(): Promise<void>;
}

export class SessionRegistry<S extends RegisteredSession> {
  private readonly active = new Map<string, S>();
  private readonly states = new Map<string, ClientState>();
  private readonly pendingWills = new Map<string, { readonly timer: TimerHandle; readonly publish: () => void }>();

  constructor(private readonly clock: Clock) {}

  /** Makes `session` the holder of `clientId`; returns the session it replaces, which must be taken over. */
  claim(clientId: string, session: S): S | undefined {
    const previous = this.active.get(clientId);
    this.active.set(clientId, session);
    return previous === session ? undefined : previous;
  }

  /** Forgets `session` as holder of `clientId`, unless another one claimed it since. */
  release(clientId: string, session: S): void {
    if (this.active.get(clientId) === session) this.active.delete(clientId);
  }

  holder(clientId: string): S | undefined {
    return this.active.get(clientId);
  }

  /** The stored state of a client, or a new one (always new when `fresh`, replacing what was stored). */
  stateFor(clientId: string, persistent: boolean, fresh: boolean): ClientState {
    const stored = this.states.get(clientId);
    if (stored && !fresh && stored.persistent) return stored;
    const state = new ClientState(persistent);
    this.states.set(clientId, state);
    return state;
  }

  /** Whether a persistent session of this client is stored and not expired at `now`. */
  hasPersistentState(clientId: string, now: number): boolean {
    const state = this.states.get(clientId);
    if (!state?.persistent) return false;
    if (state.expiresAt > now) return true;
    this.states.delete(clientId);
    return false;
  }

  dropState(clientId: string, state: ClientState): void {
    if (this.states.get(clientId) === state) this.states.delete(clientId);
  }

  /** Publishes `publish` after `delayMs` unless a new connection of the client comes first (5.0 Will Delay Interval). */
  scheduleWill(clientId: string, delayMs: number, publish: () => void): void {
    this.firePendingWill(clientId);
    const timer = this.clock.setTimer(delayMs, () => {
      this.pendingWills.delete(clientId);
      publish();
    });
    this.pendingWills.set(clientId, { timer, publish });
  }

  /** A new connection of the client: its delayed will is dropped (session resumed) or sent now (session ended). */
  settlePendingWill(clientId: string, sessionEnded: boolean): void {
    if (sessionEnded) this.firePendingWill(clientId);
    else this.cancelPendingWill(clientId);
  }

  private firePendingWill(clientId: string): void {
    const pending = this.pendingWills.get(clientId);
    if (!pending) return;
    this.cancelPendingWill(clientId);
    pending.publish();
  }

  private cancelPendingWill(clientId: string): void {
    const pending = this.pendingWills.get(clientId);
    pending?.timer.cancel();
    this.pendingWills.delete(clientId);
  }

  /** Cancels delayed wills (adapter shutdown: they are not sent, as the session outlives the restart). */
  cancelAllWills(): void {
    for (const clientId of [...this.pendingWills.keys()]) this.cancelPendingWill(clientId);
  }
}
