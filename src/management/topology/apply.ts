import { BrokerError } from '../../core/errors.js';
import { computePlan, type Plan, type PlanAction } from './plan.js';
import type { DesiredState } from './topology-model.js';
import type { TopologyTarget } from './topology-target.js';

export interface ApplyResult {
  readonly plan: Plan;
  /** The actions carried out, in order (all of the plan's when apply succeeded). */
  readonly applied: readonly PlanAction[];
}

/** Reads the target's state and plans against it. */
export async function planTopology(desired: DesiredState, target: TopologyTarget): Promise<Plan> {
  return computePlan(desired, await target.readState());
}

/**
 * Plans, then carries out every action in the plan's order (exchanges and queues before the bindings that
 * name them). A plan with conflicts is refused as a whole, before anything changes: a half-applied topology
 * is harder to reason about than none. Throws PRECONDITION_FAILED for conflicts; an action the target
 * refuses stops the apply with that error (`cause`), naming the action and how many went before.
 */
export async function applyTopology(desired: DesiredState, target: TopologyTarget): Promise<ApplyResult> {
  const plan = await planTopology(desired, target);
  if (plan.conflicts.length > 0) {
    const lines = plan.conflicts.map(
      (conflict) =>
        `  ${conflict.entity} '${conflict.name}': ${conflict.differences
          .map((difference) => `${difference.field} is ${shown(difference.current)} on the broker, ${shown(difference.desired)} in the file`)
          .join('; ')}`,
    );
    throw new BrokerError(
      'PRECONDITION_FAILED',
      `the topology conflicts with the broker, so nothing was changed:\n${lines.join('\n')}`,
      { conflicts: plan.conflicts.length },
    );
  }
  const applied: PlanAction[] = [];
  for (const action of plan.actions) {
    try {
      await runAction(action, target);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new BrokerError(
        error instanceof BrokerError ? error.code : 'INTERNAL',
        `${describeAction(action)} failed after ${applied.length} of ${plan.actions.length} changes: ${message}`,
        { applied: applied.length },
        { cause: error },
      );
    }
    applied.push(action);
  }
  return { plan, applied };
}

function runAction(action: PlanAction, target: TopologyTarget): Promise<void> {
  switch (action.kind) {
    case 'create-exchange':
      return target.declareExchange(action.exchange);
    case 'create-queue':
      return target.declareQueue(action.queue);
    case 'create-topic':
      return target.createTopic(action.topic);
    case 'update-topic':
      return target.updateTopic(action.topic);
    case 'create-binding':
      return target.bind(action.binding);
    case 'create-service':
    case 'update-service':
      return target.putService(action.service);
  }
}

export function describeAction(action: PlanAction): string {
  switch (action.kind) {
    case 'create-exchange':
      return `create exchange '${action.exchange.name}'`;
    case 'create-queue':
      return `create queue '${action.queue.name}'`;
    case 'create-topic':
      return `create topic '${action.topic.name}'`;
    case 'update-topic':
      return `update topic '${action.topic.name}'`;
    case 'create-binding':
      return `create binding ${action.binding.source} -> ${action.binding.destination}`;
    case 'create-service':
      return `create service '${action.service.name}'`;
    case 'update-service':
      return `update service '${action.service.name}'`;
  }
}

function shown(value: unknown): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}
