import type { ProtocolAdapterFactory } from './listeners.js';

/**
 * The protocol adapters `courier serve` runs. Empty until the MQTT, AMQP, STOMP and Kafka adapters land;
 * each adds its factory here, and its listener starts on the port of its setting.
 */
export const builtInProtocolAdapters: readonly ProtocolAdapterFactory[] = [];
