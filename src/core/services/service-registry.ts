import { BrokerError, isBrokerError } from '../errors.js';
import type { ServiceRecord } from '../ports.js';
import { validateTopicName } from '../topics/topic-name.js';
import { MAX_DESCRIPTION_CHARS, MAX_DISPLAY_NAME_CHARS } from '../topics/topic-registry.js';

/**
 * One level of letters, digits, `-` and `_`: a service's queues are named `{service}.{topic}`, and a name
 * without dots makes such a name stand for exactly one (service, topic) pair.
 */
export const SERVICE_NAME_PATTERN = /^[\p{L}\p{Nd}_-]+$/u;
export const MAX_SERVICE_NAME_CHARS = 100;
/** Topics one service may list under produces or consumes (each list). */
export const MAX_SERVICE_TOPICS = 1000;

/** What a PUT of a service carries; the whole record is replaced. */
export interface ServiceInput {
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly produces?: readonly string[];
  readonly consumes?: readonly string[];
}

export type ServicePutOutcome = 'created' | 'updated' | 'unchanged';

export interface ServicePutResult {
  readonly service: ServiceRecord;
  readonly outcome: ServicePutOutcome;
}

const INPUT_FIELDS = new Set(['name', 'displayName', 'description', 'produces', 'consumes']);

function invalid(message: string, details?: Record<string, unknown>): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', message, details);
}

function characters(text: string): number {
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}

/** Throws INVALID_NAME unless `name` is a service name (see SERVICE_NAME_PATTERN). */
export function validateServiceName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new BrokerError('INVALID_NAME', `service name must be a string, got ${name === null ? 'null' : typeof name}`);
  }
  if (name.length === 0) throw new BrokerError('INVALID_NAME', 'service name must not be empty', { name });
  if (characters(name) > MAX_SERVICE_NAME_CHARS) {
    throw new BrokerError('INVALID_NAME', `service name has ${characters(name)} characters; the limit is ${MAX_SERVICE_NAME_CHARS}`, { name });
  }
  if (!SERVICE_NAME_PATTERN.test(name)) {
    throw new BrokerError(
      'INVALID_NAME',
      `service name '${name}' must be one word of letters, digits, '-' and '_' (no dots: its queues are named {service}.{topic})`,
      { name },
    );
  }
}

function checkFields(value: unknown, what: string, allowed: ReadonlySet<string>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be an object`);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw invalid(`${what} has an unknown field '${key}'; known fields are ${[...allowed].join(', ')}`, { field: key });
  }
  return value as Record<string, unknown>;
}

function checkDisplayName(value: unknown): string {
  if (typeof value !== 'string') throw invalid(`displayName must be a string, got ${typeof value}`);
  if (value.trim().length === 0) throw invalid('displayName must not be empty or only whitespace');
  if (characters(value) > MAX_DISPLAY_NAME_CHARS) throw invalid(`displayName has ${characters(value)} characters; the limit is ${MAX_DISPLAY_NAME_CHARS}`);
  if (/\p{Cc}/u.test(value)) throw invalid('displayName must not contain control characters (tabs, line breaks)');
  return value;
}

function checkDescription(value: unknown): string {
  if (typeof value !== 'string') throw invalid(`description must be a string, got ${typeof value}`);
  if (characters(value) > MAX_DESCRIPTION_CHARS) throw invalid(`description has ${characters(value)} characters; the limit is ${MAX_DESCRIPTION_CHARS}`);
  if (/[^\P{Cc}\t\n\r]/u.test(value)) throw invalid('description must not contain control characters other than tab and line breaks');
  return value;
}

/** A list of topic names, deduplicated and sorted: the order of a service's topics means nothing. */
function checkTopics(value: unknown, field: 'produces' | 'consumes'): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) throw invalid(`${field} must be a list of topic names`, { field });
  if (value.length > MAX_SERVICE_TOPICS) throw invalid(`${field} lists ${value.length} topics; the limit is ${MAX_SERVICE_TOPICS}`, { field });
  for (const [index, topic] of value.entries()) {
    try {
      validateTopicName(topic);
    } catch (error) {
      if (!isBrokerError(error)) throw error;
      throw invalid(`${field}[${index}]: ${error.message}`, { field, index });
    }
  }
  return Object.freeze([...new Set(value as string[])].sort());
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((entry, index) => entry === b[index]);
}

export function sameService(a: ServiceRecord, b: ServiceRecord): boolean {
  return (
    a.name === b.name &&
    a.displayName === b.displayName &&
    a.description === b.description &&
    sameList(a.produces, b.produces) &&
    sameList(a.consumes, b.consumes)
  );
}

/**
 * Checks a service as a client sends it and returns the record it stands for: optional texts left out
 * when absent, topic lists sorted without duplicates. Throws INVALID_NAME or INVALID_ARGUMENT.
 */
export function normalizeService(input: unknown, what = 'service'): ServiceRecord {
  const fields = checkFields(input, what, INPUT_FIELDS);
  const name = fields['name'];
  validateServiceName(name);
  const displayName = fields['displayName'] === undefined ? undefined : checkDisplayName(fields['displayName']);
  const description = fields['description'] === undefined ? undefined : checkDescription(fields['description']);
  return Object.freeze({
    name,
    ...(displayName === undefined ? {} : { displayName }),
    ...(description === undefined ? {} : { description }),
    produces: checkTopics(fields['produces'], 'produces'),
    consumes: checkTopics(fields['consumes'], 'consumes'),
  });
}

/**
 * The services of a system (who produces and who consumes which topic), as topology as code declares
 * them. The registry keeps the records in memory; the broker persists them in its metadata snapshot and
 * restores them with `load`. It does not check that the topics exist: the broker does, because only it
 * knows the topics. Records are frozen.
 */
export class ServiceRegistry {
  private readonly services = new Map<string, ServiceRecord>();

  get size(): number {
    return this.services.size;
  }

  /** Checks `input` by the registry's rules without storing it. */
  check(input: unknown): ServiceRecord {
    return normalizeService(input);
  }

  /** Creates or replaces the service; an equal record is left as it is ('unchanged'). */
  put(input: unknown): ServicePutResult {
    const service = normalizeService(input);
    const existing = this.services.get(service.name);
    if (existing && sameService(existing, service)) return { service: existing, outcome: 'unchanged' };
    this.services.set(service.name, service);
    return { service, outcome: existing ? 'updated' : 'created' };
  }

  /** Removes the service and returns its last record; SERVICE_NOT_FOUND when there is none. */
  delete(name: string): ServiceRecord {
    const service = this.require(name);
    this.services.delete(name);
    return service;
  }

  get(name: string): ServiceRecord | undefined {
    return this.services.get(name);
  }

  /** The service, or BrokerError SERVICE_NOT_FOUND. */
  require(name: string): ServiceRecord {
    const service = this.services.get(name);
    if (!service) throw new BrokerError('SERVICE_NOT_FOUND', `no service named '${String(name)}'`, { name });
    return service;
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  /** Every service, ordered by name. */
  list(): ServiceRecord[] {
    return [...this.services.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Replaces the registry with the records of a metadata snapshot, checked by the same rules as `put`.
   * A damaged record throws METADATA_CORRUPT and leaves the registry as it was.
   */
  load(records: readonly ServiceRecord[]): void {
    const loaded = new Map<string, ServiceRecord>();
    records.forEach((record, index) => {
      try {
        const service = normalizeService(record, 'service record');
        if (loaded.has(service.name)) throw invalid(`service '${service.name}' appears twice`);
        loaded.set(service.name, service);
      } catch (error) {
        if (!isBrokerError(error)) throw error;
        throw new BrokerError('METADATA_CORRUPT', `service record ${index} is damaged: ${error.message}`, { index }, { cause: error });
      }
    });
    this.services.clear();
    for (const [name, service] of loaded) this.services.set(name, service);
  }
}
