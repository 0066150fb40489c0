import type { Broker } from '../../core/broker.js';
import type { Logger } from '../../core/ports.js';
import { applyTopology, describeAction } from './apply.js';
import { BrokerTopologyTarget } from './broker-target.js';
import type { LoadedTopology } from './load-topology.js';

/**
 * `courier serve --topology`: applies the file to the freshly recovered broker before any listener accepts
 * a client, so the first publisher already finds every service queue. Conflicts stop the start
 * (PRECONDITION_FAILED, nothing changed); drift is logged and left alone.
 */
export async function applyStartupTopology(broker: Broker, topology: LoadedTopology, logger: Logger): Promise<void> {
  const result = await applyTopology(topology.desired, new BrokerTopologyTarget(broker)).catch((error: unknown) => {
    logger.error({ file: topology.path, err: error }, 'topology not applied');
    throw error;
  });
  for (const action of result.applied) logger.info({ file: topology.path }, `topology: ${describeAction(action)}`);
  logger.info(
    {
      file: topology.path,
      applied: result.applied.length,
      unchanged: result.plan.unchanged,
      notInFile: result.plan.drift.length,
    },
    'topology applied',
  );
}
