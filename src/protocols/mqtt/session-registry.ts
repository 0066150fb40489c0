/**
 * What the MQTT adapter knows about clients beyond one connection: which connection currently holds
 * each client identifier (for session takeover), the in-memory part of persistent sessions (packet
 * identifiers in flight both ways, so a reconnecting client gets its QoS 1/2 flows completed with the
 * same identifiers), and wills waiting for their Will Delay Interval.
 *
 * Subscriptions and queued messages of persistent sessions live in the core (durable queues and their
 * bindings). Of the rest, what exactly-once and delayed wills need across a restart is also written to
 * the session store (session-store.ts) and loaded back by `restore`: QoS 2 identifiers awaiting PUBREL,
 * deliveries in the PUBREL stage, delayed wills. Identifiers of QoS 1/2 deliveries not yet acknowledged
 * are in memory only (the messages themselves stay in their queues and are redelivered after a restart).
 */
import { isBrokerError } from '../../core/errors.js';
import type { Message } from '../../core/message/message.js';
import type { Clock, Logger, TimerHandle } from '../../core/ports.js';
import type { SessionStore, StoredWill } from './session-store.js';

/** A QoS 1 or 2 PUBLISH sent to the client and not yet completed. */
export interface OutboundFlight {
  readonly packetId: number;
  readonly qos: 1 | 2;
  /** 'publish' until PUBREC (QoS 2), then 'pubrel' until PUBCOMP. */
  stage: 'publish' | 'pubrel';
  /** Undefined for a PUBREL-stage flight restored after a restart (only its identifier is stored). */
  readonly message: Message | undefined;
  readonly retain: boolean;
  /** 5.0 Subscription Identifiers sent with it, sent again with a DUP resend. */
  readonly subscriptionIds: readonly number[];
  /** The core queue the message came from (undefined for retained and restored flights). */
  readonly queue: string | undefined;
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
    if (flight.message) this.flightsByMessage.set(flight.message, flight);
  }

  removeFlight(flight: OutboundFlight): void {
    this.flights.delete(flight.packetId);
    if (flight.message && this.flightsByMessage.get(flight.message) === flight) this.flightsByMessage.delete(flight.message);
  }

  /** The connection ended: core deliveries are returned to their queues and will come back with new tags. */
  detachFlights(): void {
    for (const flight of this.flights.values()) flight.deliveryTag = undefined;
  }

  /**
   * Flights nothing redelivers, which the session resends on reconnect: retained messages sent on
   * subscribe, and QoS 2 deliveries in the PUBREL stage (their core delivery was settled at PUBREC).
   */
  flightsToResend(): OutboundFlight[] {
    return [...this.flights.values()].filter((flight) => flight.fromRetainedStore || flight.stage === 'pubrel');
  }

  /** Packet identifiers of PUBREL-stage flights, for removing their stored records. */
  pubrelIds(): number[] {
    return [...this.flights.values()].filter((flight) => flight.stage === 'pubrel').map((flight) => flight.packetId);
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
  /** Resolves once stored state is loaded (`restore`); CONNECTs wait for it. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Where persistent sessions keep what must survive a restart; undefined keeps it in memory only. */
    readonly store: SessionStore | undefined,
  ) {}

  /**
   * Loads stored session state: packet identifiers into client states, delayed wills into timers (a
   * will already due is published now). `publishWill` publishes a stored will.
   */
  restore(publishWill: (will: StoredWill) => void): Promise<void> {
    const store = this.store;
    if (!store) return this.ready;
    this.ready = store.load().then(
      (loaded) => {
        for (const [clientId, ids] of loaded.inbound) for (const id of ids) this.restoredState(clientId).inboundQos2.add(id);
        for (const [clientId, ids] of loaded.pubrel) {
          const state = this.restoredState(clientId);
          for (const packetId of ids) {
            state.addFlight({ packetId, qos: 2, stage: 'pubrel', message: undefined, retain: false, subscriptionIds: [], queue: undefined, deliveryTag: undefined, fromRetainedStore: false });
          }
        }
        for (const will of loaded.wills) {
          // A will and its delay are session state (5.0 4.1): the session is present on return.
          this.restoredState(will.clientId);
          const publish = (): void => publishWill(will);
          if (will.dueAt <= this.clock.now()) this.publishStoredWill(will.clientId, publish);
          else this.armWill(will.clientId, will.dueAt - this.clock.now(), publish);
        }
      },
      (error: unknown) => {
        // A server stopped right after starting closes the store under the load: nothing to report.
        if (!isBrokerError(error, 'BROKER_CLOSED')) this.logger.error({ err: error }, 'loading stored mqtt session state failed');
      },
    );
    return this.ready;
  }

  private restoredState(clientId: string): ClientState {
    let state = this.states.get(clientId);
    if (!state) {
      state = new ClientState(true);
      this.states.set(clientId, state);
    }
    return state;
  }

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
    if (stored) this.forgetStored(clientId, stored);
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
    this.forgetStored(clientId, state);
    return false;
  }

  dropState(clientId: string, state: ClientState): void {
    if (this.states.get(clientId) !== state) return;
    this.states.delete(clientId);
    this.forgetStored(clientId, state);
  }

  /** A session ends for good: its stored packet identifiers go too. */
  private forgetStored(clientId: string, state: ClientState): void {
    const store = this.store;
    if (!store || !state.persistent) return;
    const failed = (error: unknown): void => this.logger.error({ err: error, clientId }, 'removing stored mqtt session state failed');
    for (const id of state.inboundQos2) store.clearId('inbound', clientId, id).catch(failed);
    for (const id of state.pubrelIds()) store.clearId('pubrel', clientId, id).catch(failed);
  }

  /**
   * Publishes `publish` after `delayMs` unless a new connection of the client comes first (5.0 Will Delay
   * Interval). With `stored`, the will is also written to the session store, so a restart keeps it.
   */
  scheduleWill(clientId: string, delayMs: number, publish: () => void, stored?: StoredWill): void {
    this.firePendingWill(clientId);
    if (stored && this.store) {
      this.store.saveWill(stored).catch((error: unknown) => this.logger.error({ err: error, clientId }, 'storing a delayed will failed'));
    }
    this.armWill(clientId, delayMs, publish);
  }

  private armWill(clientId: string, delayMs: number, publish: () => void): void {
    const timer = this.clock.setTimer(delayMs, () => {
      this.pendingWills.delete(clientId);
      this.publishStoredWill(clientId, publish);
    });
    this.pendingWills.set(clientId, { timer, publish });
  }

  /** Published, then forgotten: a crash between the two sends it again rather than never (at least once). */
  private publishStoredWill(clientId: string, publish: () => void): void {
    publish();
    this.forgetWill(clientId);
  }

  private forgetWill(clientId: string): void {
    this.store?.clearWill(clientId).catch((error: unknown) => this.logger.error({ err: error, clientId }, 'removing a stored will failed'));
  }

  /** A new connection of the client: its delayed will is dropped (session resumed) or sent now (session ended). */
  settlePendingWill(clientId: string, sessionEnded: boolean): void {
    if (sessionEnded) this.firePendingWill(clientId);
    else if (this.pendingWills.has(clientId)) {
      this.cancelPendingWill(clientId);
      this.forgetWill(clientId);
    }
  }

  private firePendingWill(clientId: string): void {
    const pending = this.pendingWills.get(clientId);
    if (!pending) return;
    this.cancelPendingWill(clientId);
    this.publishStoredWill(clientId, pending.publish);
  }

  private cancelPendingWill(clientId: string): void {
    const pending = this.pendingWills.get(clientId);
    pending?.timer.cancel();
    this.pendingWills.delete(clientId);
  }

  /**
   * Stops the timers of delayed wills (adapter shutdown). Their stored records stay: the next start
   * publishes each when its delay ends, or at once if it ended meanwhile.
   */
  cancelAllWills(): void {
    for (const clientId of [...this.pendingWills.keys()]) this.cancelPendingWill(clientId);
  }
}
