import type { FieldChange, Plan, PlanAction, PlanConflict, PlanDrift } from './plan.js';
import type { TopicRetentionSpec } from './topology-model.js';
import { formatDuration, formatSize } from './units.js';

const KIND_WIDTH = 9;

function value(raw: unknown): string {
  if (raw === undefined || raw === null) return 'none';
  if (typeof raw === 'string') return JSON.stringify(raw);
  // A service's topic list.
  if (Array.isArray(raw)) return raw.length === 0 ? '[]' : `[${raw.join(', ')}]`;
  if (typeof raw === 'object' && ('maxAgeMs' in raw || 'maxBytes' in raw || Object.keys(raw).length === 0)) {
    return retention(raw);
  }
  return JSON.stringify(raw);
}

export function retention(spec: TopicRetentionSpec | undefined): string {
  if (spec === undefined) return 'none';
  const parts: string[] = [];
  if (spec.maxAgeMs !== undefined) parts.push(`maxAge ${formatDuration(spec.maxAgeMs)}`);
  if (spec.maxBytes !== undefined) parts.push(`maxBytes ${formatSize(spec.maxBytes)}`);
  return parts.length === 0 ? 'keep everything' : parts.join(', ');
}

function changes(list: readonly FieldChange[]): string {
  return list.map((change) => `${change.field} ${value(change.current)} -> ${value(change.desired)}`).join('; ');
}

function line(sign: string, kind: string, text: string): string {
  return `  ${sign} ${kind.padEnd(KIND_WIDTH)}${text}`;
}

function flags(entries: Record<string, boolean>): string {
  return Object.entries(entries)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .join(', ');
}

function argumentsText(args: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(args);
  return keys.length === 0 ? '' : `; ${keys.map((key) => `${key}=${JSON.stringify(args[key])}`).join(', ')}`;
}

export function formatAction(action: PlanAction): string {
  switch (action.kind) {
    case 'create-exchange': {
      const { exchange } = action;
      const extra = flags({ durable: exchange.durable, autoDelete: exchange.autoDelete, internal: exchange.internal });
      return line('+', 'exchange', `${exchange.name} (${exchange.type}${extra ? `, ${extra}` : ''}${argumentsText(exchange.arguments)})`);
    }
    case 'create-queue': {
      const { queue } = action;
      const extra = flags({ durable: queue.durable, autoDelete: queue.autoDelete });
      return line('+', 'queue', `${queue.name} (${extra || 'transient'}${argumentsText(queue.arguments)})`);
    }
    case 'create-topic': {
      const { topic } = action;
      const history = topic.retention ? `, retention ${retention(topic.retention)}` : '';
      return line('+', 'topic', `${topic.name} ${JSON.stringify(topic.displayName)}${history}`);
    }
    case 'update-topic':
      return line('~', 'topic', `${action.topic.name}: ${changes(action.changes)}`);
    case 'create-service': {
      const { service } = action;
      const roles = [
        service.produces.length > 0 ? `produces ${service.produces.join(', ')}` : '',
        service.consumes.length > 0 ? `consumes ${service.consumes.join(', ')}` : '',
      ].filter((part) => part !== '');
      const title = service.displayName === undefined ? '' : ` ${JSON.stringify(service.displayName)}`;
      return line('+', 'service', `${service.name}${title} (${roles.length > 0 ? roles.join('; ') : 'no topics'})`);
    }
    case 'update-service':
      return line('~', 'service', `${action.service.name}: ${changes(action.changes)}`);
    case 'create-binding': {
      const { binding } = action;
      const target = binding.destinationKind === 'exchange' ? `exchange ${binding.destination}` : binding.destination;
      return line('+', 'binding', `${binding.source} -> ${target} (key ${JSON.stringify(binding.routingKey)}${argumentsText(binding.arguments)})`);
    }
  }
}

export function formatConflict(conflict: PlanConflict): string {
  return `${line('!', conflict.entity, `${conflict.name}: ${changes(conflict.differences)}`)}\n      ${conflict.reason}`;
}

export function formatDrift(drift: PlanDrift): string {
  if (drift.entity === 'binding') {
    const { binding } = drift;
    return line('?', 'binding', `${binding.source} -> ${binding.destinationKind === 'exchange' ? 'exchange ' : ''}${binding.destination} (key ${JSON.stringify(binding.routingKey)})`);
  }
  if (drift.entity === 'queue') {
    return line('?', 'queue', `${drift.name}${drift.bindings > 0 ? ` (with ${drift.bindings} binding${drift.bindings === 1 ? '' : 's'})` : ''}`);
  }
  return line('?', drift.entity, drift.name);
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function planSummary(plan: Plan): string {
  const creates = plan.actions.filter((action) => action.kind !== 'update-topic' && action.kind !== 'update-service').length;
  const updates = plan.actions.length - creates;
  return `${creates} to create, ${updates} to update, ${count(plan.conflicts.length, 'conflict')}, ${plan.drift.length} not in the file, ${plan.unchanged} unchanged`;
}

/** The plan as people read it: `+` create, `~` update in place, `!` conflict, `?` drift (left alone). */
export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  if (plan.actions.length === 0) out.push('No changes: the broker already has everything the file declares.');
  else {
    out.push('Changes:');
    for (const action of plan.actions) out.push(formatAction(action));
  }
  if (plan.conflicts.length > 0) {
    out.push('', 'Conflicts (the broker refuses these changes; apply changes nothing while any remain):');
    for (const conflict of plan.conflicts) out.push(formatConflict(conflict));
  }
  if (plan.drift.length > 0) {
    out.push('', 'On the broker but not in the file (left alone):');
    for (const drift of plan.drift) out.push(formatDrift(drift));
  }
  out.push('', `Plan: ${planSummary(plan)}.`);
  return `${out.join('\n')}\n`;
}
