import { BrokerError, isBrokerError } from '../errors.js';
import type { Clock, TopicRecord } from '../ports.js';
import { validateTopicName } from './topic-name.js';

export type TopicRetention = NonNullable<TopicRecord['retention']>;

export interface CreateTopicInput {
  readonly name: string;
  /** Defaults to the name. */
  readonly displayName?: string;
  /** Defaults to ''. */
  readonly description?: string;
  /** When given (even `{}`, meaning keep everything), the topic keeps history in a stream. */
  readonly retention?: TopicRetention;
}

export interface TopicPatch {
  readonly displayName?: string;
  readonly description?: string;
  /** `null` removes the retention (the topic stops keeping history). */
  readonly retention?: TopicRetention | null;
}

export type TopicChange =
  | { readonly kind: 'created'; readonly topic: TopicRecord }
  | { readonly kind: 'updated'; readonly topic: TopicRecord; readonly previous: TopicRecord }
  | { readonly kind: 'deleted'; readonly topic: TopicRecord };

export interface TopicRegistryOptions {
  readonly clock: Clock;
  /**
   * Called after every create, effective update and delete (not for `load`), so the broker can persist
   * its metadata and attach or drop the topic's stream. It should not throw: the change is already made.
   */
  readonly onChange?: (change: TopicChange) => void;
}

export const MAX_DISPLAY_NAME_CHARS = 200;
export const MAX_DESCRIPTION_CHARS = 2000;

const CREATE_FIELDS = new Set(['name', 'displayName', 'description', 'retention']);
const PATCH_FIELDS = new Set(['displayName', 'description', 'retention']);
const RETENTION_FIELDS = new Set(['maxAgeMs', 'maxBytes']);

function invalid(message: string, details?: Record<string, unknown>): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', message, details);
}

function characterCount(text: string): number {
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}

function checkObject(value: unknown, what: string, allowed: ReadonlySet<string>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      throw invalid(`${what} has an unknown field '${key}'; known fields are ${[...allowed].join(', ')}`, { field: key });
    }
  }
  return value as Record<string, unknown>;
}

function checkDisplayName(value: unknown): string {
  if (typeof value !== 'string') throw invalid(`displayName must be a string, got ${typeof value}`);
  if (value.trim().length === 0) throw invalid('displayName must not be empty or only whitespace');
  const count = characterCount(value);
  if (count > MAX_DISPLAY_NAME_CHARS) {
    throw invalid(`displayName has ${count} characters; the limit is ${MAX_DISPLAY_NAME_CHARS}`);
  }
  if (/\p{Cc}/u.test(value)) throw invalid('displayName must not contain control characters (tabs, line breaks)');
  return value;
}

function checkDescription(value: unknown): string {
  if (typeof value !== 'string') throw invalid(`description must be a string, got ${typeof value}`);
  const count = characterCount(value);
  if (count > MAX_DESCRIPTION_CHARS) {
    throw invalid(`description has ${count} characters; the limit is ${MAX_DESCRIPTION_CHARS}`);
  }
  // Line breaks and tabs are fine in prose; other control characters only corrupt terminals and logs.
  if (/[^\P{Cc}\t\n\r]/u.test(value)) throw invalid('description must not contain control characters other than tab and line breaks');
  return value;
}

function checkRetention(value: unknown): TopicRetention {
  const fields = checkObject(value, 'retention', RETENTION_FIELDS);
  const retention: { maxAgeMs?: number; maxBytes?: number } = {};
  for (const field of ['maxAgeMs', 'maxBytes'] as const) {
    const limit = fields[field];
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit <= 0) {
      throw invalid(`retention.${field} must be a positive integer, got ${JSON.stringify(limit) ?? typeof limit}`);
    }
    retention[field] = limit;
  }
  return Object.freeze(retention);
}

function sameRetention(a: TopicRetention | undefined, b: TopicRetention | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.maxAgeMs === b.maxAgeMs && a.maxBytes === b.maxBytes;
}

function freezeRecord(record: TopicRecord): TopicRecord {
  return Object.freeze(record);
}

/**
 * The user-facing topics (DESIGN §2): name, display name, description and retention. A topic is a
 * routing key in `amq.topic` plus this entry; the registry only keeps the entries, in memory. The broker
 * persists them by reading `list()` into its metadata snapshot (on `onChange`) and restores them with `load`.
 * Records are frozen: callers may keep them without copying.
 */
export class TopicRegistry {
  private readonly topics = new Map<string, TopicRecord>();
  private readonly clock: Clock;
  private readonly onChange: ((change: TopicChange) => void) | undefined;

  constructor(options: TopicRegistryOptions) {
    this.clock = options.clock;
    this.onChange = options.onChange;
  }

  get size(): number {
    return this.topics.size;
  }

  /** Throws INVALID_NAME / RESERVED_NAME for a bad name, INVALID_ARGUMENT for bad fields, TOPIC_EXISTS. */
  create(input: CreateTopicInput): TopicRecord {
    const fields = checkObject(input, 'topic', CREATE_FIELDS);
    const name = fields['name'];
    validateTopicName(name);
    const displayName = fields['displayName'] === undefined ? name : checkDisplayName(fields['displayName']);
    const description = fields['description'] === undefined ? '' : checkDescription(fields['description']);
    const retention = fields['retention'] === undefined ? undefined : checkRetention(fields['retention']);
    if (this.topics.has(name)) throw new BrokerError('TOPIC_EXISTS', `topic '${name}' exists already`, { name });
    const now = this.clock.now();
    const topic = freezeRecord({
      name,
      displayName,
      description,
      createdAt: now,
      updatedAt: now,
      ...(retention === undefined ? {} : { retention }),
    });
    this.topics.set(name, topic);
    this.onChange?.({ kind: 'created', topic });
    return topic;
  }

  /**
   * Applies the fields present in `patch`; the name never changes. A patch that changes nothing returns
   * the record as it is, without touching `updatedAt` or calling `onChange` (idempotent re-applies).
   */
  update(name: string, patch: TopicPatch): TopicRecord {
    const previous = this.require(name);
    const fields = checkObject(patch, 'topic patch', PATCH_FIELDS);
    const displayName = fields['displayName'] === undefined ? previous.displayName : checkDisplayName(fields['displayName']);
    const description = fields['description'] === undefined ? previous.description : checkDescription(fields['description']);
    let retention = previous.retention;
    if (fields['retention'] === null) retention = undefined;
    else if (fields['retention'] !== undefined) retention = checkRetention(fields['retention']);
    if (
      displayName === previous.displayName &&
      description === previous.description &&
      sameRetention(retention, previous.retention)
    ) {
      return previous;
    }
    const topic = freezeRecord({
      name: previous.name,
      displayName,
      description,
      createdAt: previous.createdAt,
      updatedAt: Math.max(this.clock.now(), previous.createdAt),
      ...(retention === undefined ? {} : { retention }),
    });
    this.topics.set(name, topic);
    this.onChange?.({ kind: 'updated', topic, previous });
    return topic;
  }

  /** Removes the topic and returns its last record; TOPIC_NOT_FOUND when there is none. */
  delete(name: string): TopicRecord {
    const topic = this.require(name);
    this.topics.delete(name);
    this.onChange?.({ kind: 'deleted', topic });
    return topic;
  }

  get(name: string): TopicRecord | undefined {
    return this.topics.get(name);
  }

  /** The topic, or BrokerError TOPIC_NOT_FOUND. */
  require(name: string): TopicRecord {
    const topic = this.topics.get(name);
    if (!topic) throw new BrokerError('TOPIC_NOT_FOUND', `no topic named '${String(name)}'`, { name });
    return topic;
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  /** Every topic, ordered by name (stable output for snapshots and listings). */
  list(): TopicRecord[] {
    return [...this.topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Replaces the whole registry with records from the metadata snapshot, checking them by the same rules
   * as `create`. Damaged records throw METADATA_CORRUPT and leave the registry unchanged: a broker must
   * not start with topics silently missing. Does not call `onChange`.
   */
  load(records: readonly TopicRecord[]): void {
    const loaded = new Map<string, TopicRecord>();
    records.forEach((record, index) => {
      try {
        const fields = checkObject(record, 'topic record', new Set([...CREATE_FIELDS, 'createdAt', 'updatedAt']));
        const name = fields['name'];
        validateTopicName(name);
        const createdAt = fields['createdAt'];
        const updatedAt = fields['updatedAt'];
        if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) throw invalid('createdAt must be a finite number');
        if (typeof updatedAt !== 'number' || !Number.isFinite(updatedAt)) throw invalid('updatedAt must be a finite number');
        const retention = fields['retention'] === undefined ? undefined : checkRetention(fields['retention']);
        if (loaded.has(name)) throw invalid(`topic '${name}' appears twice`);
        loaded.set(
          name,
          freezeRecord({
            name,
            displayName: checkDisplayName(fields['displayName']),
            description: checkDescription(fields['description']),
            createdAt,
            updatedAt,
            ...(retention === undefined ? {} : { retention }),
          }),
        );
      } catch (error) {
        if (!isBrokerError(error)) throw error;
        throw new BrokerError('METADATA_CORRUPT', `topic record ${index} is damaged: ${error.message}`, { index }, { cause: error });
      }
    });
    this.topics.clear();
    for (const [name, topic] of loaded) this.topics.set(name, topic);
  }
}
