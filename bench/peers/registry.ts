/** The peer brokers by the names `--against` takes. Keep in step with PEERS in bench/run.mjs. */
import { aedesLauncher } from './aedes.js';
import type { BrokerLauncher } from './broker.js';
import { mosquittoLauncher } from './mosquitto.js';
import { natsLauncher } from './nats.js';
import { rabbitmqLauncher } from './rabbitmq.js';

export const PEER_LAUNCHERS: ReadonlyMap<string, BrokerLauncher> = new Map([
  ['mosquitto', mosquittoLauncher],
  ['aedes', aedesLauncher],
  ['rabbitmq', rabbitmqLauncher],
  ['nats', natsLauncher],
]);
