export { createMqttAdapterFactory, defaultMqttLimits, mqttAdapterFactory } from './adapter.js';
export type { MqttAdapter, MqttAdapterContext, MqttAdapterFactory } from './adapter.js';
export type { MqttLimits } from './session.js';
