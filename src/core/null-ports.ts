import type { Logger, Metrics } from './ports.js';

/** The default Metrics port: records nothing. */
export const noopMetrics: Metrics = {
  count: () => {},
  gauge: () => {},
  observe: () => {},
};

/** The default Logger port: writes nothing. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
