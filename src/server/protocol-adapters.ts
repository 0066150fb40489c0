import { amqpAdapterFactory } from '../protocols/amqp/index.js';
import { mqttAdapterFactory } from '../protocols/mqtt/index.js';
import { stompAdapterFactory } from '../protocols/stomp/index.js';
import type { ProtocolAdapterFactory } from './listeners.js';

/**
 * The protocol adapters `courier serve` runs: each listener starts on the port of its setting. Protocols
 * without an adapter yet (Kafka) are simply absent, and the startup log says so.
 */
export const builtInProtocolAdapters: readonly ProtocolAdapterFactory[] = [mqttAdapterFactory, stompAdapterFactory, amqpAdapterFactory];
