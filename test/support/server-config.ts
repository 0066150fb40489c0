import type { ServerConfig } from '../../src/server/settings.js';

/**
 * A server configuration for tests: loopback, every listener off (null) unless the test turns it on
 * (0 asks the OS for a free port), silent logs, group commit, 1 MiB segments.
 */
export function testServerConfig(dataDir: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    configFile: undefined,
    topology: undefined,
    dataDir,
    bind: '127.0.0.1',
    mqttPort: null,
    amqpPort: null,
    stompPort: null,
    httpPort: null,
    kafkaPort: null,
    logLevel: 'silent',
    fsync: { mode: 'always' },
    segmentBytes: 1024 * 1024,
    httpBodyLimit: 1024 * 1024,
    memoryHighWatermark: 256 * 1024 * 1024,
    diskFreeLimit: 0,
    flowControlMaxHold: 250,
    ...overrides,
  };
}
