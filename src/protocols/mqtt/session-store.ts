/**
 * The durable part of persistent sessions that is neither a queue nor a binding: QoS 2 packet
 * identifiers received and answered with PUBREC but not yet released [MQTT-4.3.3-10] (5.0), QoS 2
 * deliveries the client answered with PUBREC (PUBREL stage, [MQTT-4.3.3-5] / [MQTT-4.4.0-1]), and wills
 * waiting for their 5.0 Will Delay Interval.
 *
 * Stored in the broker's keyed store `mqtt-sessions` (a core last-value-per-key log, `amq.kv.mqtt-sessions`):
 * one small record per packet identifier or will, so each change is one append, and appends of one
 * event-loop turn share one write and one sync (group commit). Keys are `<kind>\0<clientId>\0<id>`;
 * client identifiers hold no control characters, so they cannot collide. The records' headers say what
 * they are, so loading needs no key parsing.
 */
import type { HeaderValue, Message } from '../../core/message/message.js';
import { createMessage } from '../../core/message/message.js';
import type { Principal } from '../../core/ports.js';
import type { RetainedStore } from '../../core/retained/retained-store.js';

export const SESSION_STORE_NAME = 'mqtt-sessions';

const KIND = 'x-mqtt-state';
const CLIENT = 'x-mqtt-state-client';
const PACKET_ID = 'x-mqtt-state-packet-id';
const WILL_DUE = 'x-mqtt-will-due-at';
const WILL_USER = 'x-mqtt-will-user';
const WILL_TAGS = 'x-mqtt-will-tags';
const STATE_HEADERS = [KIND, CLIENT, WILL_DUE, WILL_USER, WILL_TAGS] as const;

type IdKind = 'inbound' | 'pubrel';

export interface StoredWill {
  readonly clientId: string;
  /** When to publish it (ms since the epoch): the disconnect plus the delay. */
  readonly dueAt: number;
  readonly principal: Principal;
  /** The will as a core message, without the store's headers. */
  readonly message: Message;
}

export interface StoredSessionState {
  /** Client id -> QoS 2 packet identifiers awaiting PUBREL from the client. */
  readonly inbound: Map<string, number[]>;
  /** Client id -> packet identifiers of QoS 2 deliveries awaiting PUBCOMP (PUBREL stage). */
  readonly pubrel: Map<string, number[]>;
  readonly wills: StoredWill[];
}

const EMPTY = new Uint8Array(0);

export class SessionStore {
  constructor(private readonly store: RetainedStore) {}

  /** Resolves once the record is durable. */
  saveId(kind: IdKind, clientId: string, packetId: number): Promise<void> {
    const message = createMessage({ body: EMPTY, headers: { [KIND]: kind, [CLIENT]: clientId, [PACKET_ID]: packetId } });
    return this.store.set(idKey(kind, clientId, packetId), message);
  }

  clearId(kind: IdKind, clientId: string, packetId: number): Promise<void> {
    return this.store.clear(idKey(kind, clientId, packetId));
  }

  saveWill(will: StoredWill): Promise<void> {
    const headers: Record<string, HeaderValue> = {
      ...will.message.headers,
      [KIND]: 'will',
      [CLIENT]: will.clientId,
      [WILL_DUE]: will.dueAt,
      [WILL_USER]: will.principal.username,
      [WILL_TAGS]: [...will.principal.tags],
    };
    return this.store.set(willKey(will.clientId), { ...will.message, headers });
  }

  clearWill(clientId: string): Promise<void> {
    return this.store.clear(willKey(clientId));
  }

  /** Everything stored, for the adapter's start. */
  async load(): Promise<StoredSessionState> {
    const state: StoredSessionState = { inbound: new Map(), pubrel: new Map(), wills: [] };
    for (const { message } of await this.store.match('#')) {
      const kind = message.headers[KIND];
      const clientId = message.headers[CLIENT];
      if (typeof clientId !== 'string') continue;
      if (kind === 'will') {
        const dueAt = message.headers[WILL_DUE];
        const username = message.headers[WILL_USER];
        const tags = message.headers[WILL_TAGS];
        if (typeof dueAt !== 'number' || typeof username !== 'string') continue;
        const headers = { ...message.headers };
        for (const name of STATE_HEADERS) delete headers[name];
        state.wills.push({
          clientId,
          dueAt,
          principal: { username, tags: Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [] },
          message: { ...message, headers },
        });
        continue;
      }
      const packetId = message.headers[PACKET_ID];
      if (typeof packetId !== 'number' || (kind !== 'inbound' && kind !== 'pubrel')) continue;
      const ids = state[kind];
      const list = ids.get(clientId);
      if (list) list.push(packetId);
      else ids.set(clientId, [packetId]);
    }
    return state;
  }
}

function idKey(kind: IdKind, clientId: string, packetId: number): string {
  return `${kind}\0${clientId}\0${packetId}`;
}

function willKey(clientId: string): string {
  return `will\0${clientId}`;
}
