export { createMqttAdapterFactory, defaultMqttLimits, mqttAdapterFactory } from './adapter.js';
export type { MqttAdapter, MqttAdapterContext, MqttAdapterFactory, MqttAdapterInfo } from './adapter.js';
export type { MqttLimits, MqttTransport } from './session.js';
export { MQTT_WEBSOCKET_PATH, createMqttWebSocketEndpoint, type MqttWebSocketEndpoint } from './websocket.js';
