import type { Metrics } from './ports.js';

/** The default Metrics port: records nothing. */
export const noopMetrics: Metrics = {
  count: () => {},
  gauge: () => {},
  observe: () => {},
};
