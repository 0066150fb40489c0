import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type Scalar } from 'yaml';
import { validateEntityName } from '../../core/entity-names.js';
import { isBrokerError } from '../../core/errors.js';
import type { HeaderTable, HeaderValue } from '../../core/message/message.js';
import { parseQueuePolicy } from '../../core/queue/queue-policy.js';
import { parseStreamArguments } from '../../core/stream/stream-arguments.js';
import { validateTopicName } from '../../core/topics/topic-name.js';
import { MAX_DESCRIPTION_CHARS, MAX_DISPLAY_NAME_CHARS } from '../../core/topics/topic-registry.js';
import { closestMatch } from '../../core/suggest.js';
import { SERVICE_NAME_PATTERN, validateServiceName } from '../../core/services/service-registry.js';
import {
  serviceQueueName,
  type BindingSpec,
  type ExchangeSpec,
  type ExchangeType,
  type QueueSpec,
  type ServiceSpec,
  type TopicRetentionSpec,
  type TopicSpec,
  type TopologyDocument,
} from './topology-model.js';
import { DURATION_EXPECTED, parseDuration, parseSize, SIZE_EXPECTED } from './units.js';

/** One thing wrong with a topology file, at a 1-based line and column. */
export interface TopologyIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export type TopologyParseResult =
  | { readonly ok: true; readonly document: TopologyDocument }
  | { readonly ok: false; readonly issues: readonly TopologyIssue[] };

/** `file:line:column: message`, as compilers write it (editors jump to it). */
export function formatIssue(issue: TopologyIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`;
}

const SECTIONS = ['topics', 'exchanges', 'queues', 'bindings', 'services'] as const;
const TOPIC_KEYS = ['name', 'displayName', 'description', 'retention'];
const RETENTION_KEYS = ['maxAge', 'maxBytes'];
const EXCHANGE_KEYS = ['name', 'type', 'durable', 'autoDelete', 'internal', 'arguments'];
const QUEUE_KEYS = ['name', 'durable', 'autoDelete', 'arguments'];
const BINDING_KEYS = ['source', 'destination', 'destinationKind', 'routingKey', 'arguments'];
const SERVICE_KEYS = ['name', 'displayName', 'description', 'produces', 'consumes'];
const EXCHANGE_TYPES: readonly ExchangeType[] = ['direct', 'fanout', 'topic', 'headers'];
/** Queue arguments the broker acts on; an unknown `x-` key close to one of these is a typo. */
const KNOWN_QUEUE_ARGUMENTS = [
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-overflow',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-single-active-consumer',
  'x-delivery-limit',
  'x-queue-type',
  'x-max-age',
  'x-stream-max-segment-size-bytes',
];
const KNOWN_EXCHANGE_ARGUMENTS = ['alternate-exchange'];

interface BindingEntry {
  readonly spec: BindingSpec;
  readonly sourceNode: Node;
  readonly destinationNode: Node;
}

interface Located<T> {
  readonly value: T;
  readonly node: Node;
}

/**
 * Reads a `courier.yaml`: every mistake is collected (not only the first) with its line and column, and
 * the document is returned only when there are none. Names are checked by the core's own rules, queue
 * arguments by the core's policy parser, so the file fails here rather than half-way through an apply.
 */
export function parseTopology(text: string, file: string): TopologyParseResult {
  return new TopologyReader(text, file).read();
}

class TopologyReader {
  private readonly issues: TopologyIssue[] = [];
  private readonly lines = new LineCounter();

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  read(): TopologyParseResult {
    const document = parseDocument(this.text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const error of [...document.errors, ...document.warnings]) {
      this.reportAt(error.pos[0], `YAML: ${error.message.split('\n')[0] ?? error.message}`);
    }
    if (document.errors.length > 0) return this.result(undefined);
    const root = document.contents;
    const empty: TopologyDocument = { topics: [], exchanges: [], queues: [], bindings: [], services: [] };
    if (root === null || (isScalar(root) && root.value === null)) return this.result(empty);
    const sections = this.mapping(root, 'the file', SECTIONS);
    if (!sections) return this.result(undefined);

    const topics = this.list(sections.get('topics'), 'topics', (node, path) => this.topic(node, path));
    const exchanges = this.list(sections.get('exchanges'), 'exchanges', (node, path) => this.exchange(node, path));
    const queues = this.list(sections.get('queues'), 'queues', (node, path) => this.queue(node, path));
    const bindings = this.list(sections.get('bindings'), 'bindings', (node, path) => this.binding(node, path));
    const services = this.list(sections.get('services'), 'services', (node, path) => this.service(node, path));

    this.unique('topic', topics, (topic) => topic.name);
    this.unique('exchange', exchanges, (exchange) => exchange.name);
    this.unique('queue', queues, (queue) => queue.name);
    this.unique('service', services, (service) => service.spec.name);
    const topicNames = new Set(topics.map((topic) => topic.value.name));
    this.checkServices(services, topicNames);
    this.checkBindings(bindings, exchanges, queues, services);
    this.checkTopicStreams(topics, queues, services);

    return this.result({
      topics: topics.map((entry) => entry.value),
      exchanges: exchanges.map((entry) => entry.value),
      queues: queues.map((entry) => entry.value),
      bindings: bindings.map((entry) => entry.value.spec),
      services: services.map((entry) => entry.value.spec),
    });
  }

  private result(document: TopologyDocument | undefined): TopologyParseResult {
    if (this.issues.length > 0 || !document) {
      const issues = [...this.issues].sort((a, b) => a.line - b.line || a.column - b.column);
      return { ok: false, issues };
    }
    return { ok: true, document };
  }

  // ---------------------------------------------------------------------------------------------------
  // Reporting

  private reportAt(offset: number, message: string): void {
    const { line, col } = this.lines.linePos(offset);
    this.issues.push({ file: this.file, line, column: col, message });
  }

  private report(node: Node | Pair | null | undefined, message: string): void {
    const range = node && 'range' in node ? node.range : undefined;
    this.reportAt(range?.[0] ?? 0, message);
  }

  // ---------------------------------------------------------------------------------------------------
  // Structure

  /** The keys of a mapping, each with its pair; unknown keys are reported with the closest known one. */
  private mapping(node: unknown, path: string, known: readonly string[]): Map<string, Pair<Scalar, Node | null>> | undefined {
    if (isMap(node) && known.includes('name')) {
      const name = node.get('name', true);
      if (isScalar(name) && typeof name.value === 'string') path = `${path} (${name.value})`;
    }
    if (!isMap(node)) {
      this.report(node as Node, `${path} must be a mapping (key: value), got ${describe(node)}`);
      return undefined;
    }
    const entries = new Map<string, Pair<Scalar, Node | null>>();
    for (const pair of (node).items) {
      const key = pair.key;
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.report(key as Node, `${path}: keys must be plain names`);
        continue;
      }
      if (!known.includes(key.value)) {
        const suggestion = closestMatch(key.value, known);
        const hint = suggestion === undefined ? `; known keys are ${known.join(', ')}` : ` (did you mean "${suggestion}"?)`;
        this.report(key, `${path}: unknown key "${key.value}"${hint}`);
        continue;
      }
      entries.set(key.value, pair as Pair<Scalar, Node | null>);
    }
    return entries;
  }

  private list<T>(pair: Pair<Scalar, Node | null> | undefined, section: string, read: (node: Node, path: string) => T | undefined): Located<T>[] {
    if (!pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return [];
    if (!isSeq(pair.value)) {
      this.report(pair.value, `${section} must be a list (items starting with "- "), got ${describe(pair.value)}`);
      return [];
    }
    const out: Located<T>[] = [];
    pair.value.items.forEach((item, index) => {
      const value = read(item as Node, `${section}[${index}]`);
      if (value !== undefined) out.push({ value, node: item as Node });
    });
    return out;
  }

  private name(entries: Map<string, Pair<Scalar, Node | null>>, item: Node, path: string, key = 'name'): Located<string> | undefined {
    const pair = entries.get(key);
    if (!pair) {
      this.report(item, `${path}: missing "${key}"`);
      return undefined;
    }
    const value = this.string(pair, path, key);
    if (value === undefined) return undefined;
    return { value, node: pair.value ?? pair.key };
  }

  private string(pair: Pair<Scalar, Node | null> | undefined, path: string, key: string): string | undefined {
    if (!pair) return undefined;
    const node = pair.value;
    if (!isScalar(node) || typeof node.value !== 'string') {
      // YAML reads `name: 2024` or `routingKey: yes` as a number or a boolean: say so and how to quote it.
      const got = isScalar(node) && node.value !== null ? `${typeof node.value} ${scalarText(node.value)} (quote it to make it a string)` : describe(node);
      this.report(node ?? pair.key, `${path}.${key} must be a string, got ${got}`);
      return undefined;
    }
    return node.value;
  }

  private boolean(pair: Pair<Scalar, Node | null> | undefined, path: string, key: string, fallback: boolean): boolean {
    if (!pair) return fallback;
    const node = pair.value;
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.report(node ?? pair.key, `${path}.${key} must be true or false, got ${describe(node)}`);
      return fallback;
    }
    return node.value;
  }

  private stringList(pair: Pair<Scalar, Node | null> | undefined, path: string, key: string): Located<string>[] {
    if (!pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return [];
    if (!isSeq(pair.value)) {
      this.report(pair.value, `${path}.${key} must be a list of topic names, got ${describe(pair.value)}`);
      return [];
    }
    const out: Located<string>[] = [];
    pair.value.items.forEach((item, index) => {
      if (isScalar(item) && typeof item.value === 'string') out.push({ value: item.value, node: item });
      else this.report(item as Node, `${path}.${key}[${index}] must be a topic name, got ${describe(item)}`);
    });
    return out;
  }

  private arguments(
    pair: Pair<Scalar, Node | null> | undefined,
    path: string,
    known: readonly string[],
  ): { table: HeaderTable; keys: Map<string, Node> } {
    const table: HeaderTable = {};
    const keys = new Map<string, Node>();
    if (!pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return { table, keys };
    if (!isMap(pair.value)) {
      this.report(pair.value, `${path}.arguments must be a mapping, got ${describe(pair.value)}`);
      return { table, keys };
    }
    for (const item of pair.value.items) {
      const key = item.key;
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.report(key as Node, `${path}.arguments: keys must be plain names`);
        continue;
      }
      const suggestion = known.includes(key.value) ? undefined : closestMatch(key.value, known);
      if (suggestion !== undefined) {
        this.report(key, `${path}.arguments: unknown argument "${key.value}" (did you mean "${suggestion}"?)`);
        continue;
      }
      const value = item.value as Node | null;
      table[key.value] = toHeaderValue(value);
      keys.set(key.value, value ?? key);
    }
    return { table, keys };
  }

  // ---------------------------------------------------------------------------------------------------
  // Entities

  private topic(node: Node, path: string): TopicSpec | undefined {
    const entries = this.mapping(node, path, TOPIC_KEYS);
    if (!entries) return undefined;
    const name = this.name(entries, node, path);
    if (name) this.check(name.node, `${path}.name`, () => validateTopicName(name.value));
    const label = name ? `${path} (${name.value})` : path;
    const { displayName, description } = this.texts(entries, label);
    const retention = this.retention(entries.get('retention'), label);
    if (!name) return undefined;
    return {
      name: name.value,
      displayName: displayName ?? name.value,
      description: description ?? '',
      ...(retention === undefined ? {} : { retention }),
    };
  }

  private retention(pair: Pair<Scalar, Node | null> | undefined, path: string): TopicRetentionSpec | undefined {
    if (!pair) return undefined;
    if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return {};
    const entries = this.mapping(pair.value, `${path}.retention`, RETENTION_KEYS);
    if (!entries) return undefined;
    const retention: { maxAgeMs?: number; maxBytes?: number } = {};
    const maxAge = entries.get('maxAge');
    if (maxAge) {
      const value = parseDuration(scalarValue(maxAge.value));
      if (value === undefined) this.report(maxAge.value ?? maxAge.key, `${path}.retention.maxAge must be ${DURATION_EXPECTED}, got ${describe(maxAge.value)}`);
      else retention.maxAgeMs = value;
    }
    const maxBytes = entries.get('maxBytes');
    if (maxBytes) {
      const value = parseSize(scalarValue(maxBytes.value));
      if (value === undefined) this.report(maxBytes.value ?? maxBytes.key, `${path}.retention.maxBytes must be ${SIZE_EXPECTED}, got ${describe(maxBytes.value)}`);
      else retention.maxBytes = value;
    }
    return retention;
  }

  private exchange(node: Node, path: string): ExchangeSpec | undefined {
    const entries = this.mapping(node, path, EXCHANGE_KEYS);
    if (!entries) return undefined;
    const name = this.name(entries, node, path);
    if (name) this.check(name.node, `${path}.name`, () => validateEntityName('exchange', name.value));
    const label = name ? `${path} (${name.value})` : path;
    const typePair = entries.get('type');
    let type: ExchangeType | undefined;
    if (!typePair) this.report(node, `${label}: missing "type" (one of ${EXCHANGE_TYPES.join(', ')})`);
    else {
      const raw = this.string(typePair, label, 'type');
      if (raw !== undefined && !(EXCHANGE_TYPES as readonly string[]).includes(raw)) {
        const suggestion = closestMatch(raw, EXCHANGE_TYPES);
        this.report(typePair.value, `${label}.type "${raw}" is not an exchange type${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; use one of ${EXCHANGE_TYPES.join(', ')}`);
      } else if (raw !== undefined) type = raw as ExchangeType;
    }
    const durable = this.boolean(entries.get('durable'), label, 'durable', true);
    const autoDelete = this.boolean(entries.get('autoDelete'), label, 'autoDelete', false);
    const internal = this.boolean(entries.get('internal'), label, 'internal', false);
    const args = this.arguments(entries.get('arguments'), label, KNOWN_EXCHANGE_ARGUMENTS);
    const alternate = args.table['alternate-exchange'];
    if (alternate !== undefined && typeof alternate !== 'string') {
      this.report(args.keys.get('alternate-exchange'), `${label}.arguments.alternate-exchange must be an exchange name`);
    }
    if (!name || !type) return undefined;
    return { name: name.value, type, durable, autoDelete, internal, arguments: args.table };
  }

  private queue(node: Node, path: string): QueueSpec | undefined {
    const entries = this.mapping(node, path, QUEUE_KEYS);
    if (!entries) return undefined;
    const name = this.name(entries, node, path);
    if (name) this.check(name.node, `${path}.name`, () => validateEntityName('queue', name.value));
    const label = name ? `${path} (${name.value})` : path;
    const durable = this.boolean(entries.get('durable'), label, 'durable', true);
    const autoDelete = this.boolean(entries.get('autoDelete'), label, 'autoDelete', false);
    const args = this.arguments(entries.get('arguments'), label, KNOWN_QUEUE_ARGUMENTS);
    const where = (message: string): Node | undefined => {
      const key = [...args.keys.keys()].find((argument) => message.includes(`'${argument}'`));
      return (key === undefined ? undefined : args.keys.get(key)) ?? entries.get('arguments')?.value ?? node;
    };
    try {
      const policy = parseQueuePolicy(args.table);
      if (policy.queueType === 'stream') parseStreamArguments(args.table);
      if (policy.queueType !== 'classic' && (!durable || autoDelete)) {
        this.report(entries.get('durable')?.value ?? node, `${label}: a ${policy.queueType} queue must be durable and not autoDelete`);
      }
    } catch (error) {
      if (!isBrokerError(error)) throw error;
      this.report(where(error.message), `${label}.arguments: ${error.message}`);
    }
    if (!name) return undefined;
    return { name: name.value, durable, autoDelete, arguments: args.table };
  }

  private binding(node: Node, path: string): BindingEntry | undefined {
    const entries = this.mapping(node, path, BINDING_KEYS);
    if (!entries) return undefined;
    const source = this.name(entries, node, path, 'source');
    const destination = this.name(entries, node, path, 'destination');
    const kindPair = entries.get('destinationKind');
    let destinationKind: 'queue' | 'exchange' = 'queue';
    const kind = this.string(kindPair, path, 'destinationKind');
    if (kind !== undefined && kind !== 'queue' && kind !== 'exchange') {
      this.report(kindPair?.value, `${path}.destinationKind must be queue or exchange, got "${kind}"`);
    } else if (kind !== undefined) destinationKind = kind;
    const routingKey = entries.has('routingKey') ? this.string(entries.get('routingKey'), path, 'routingKey') : '';
    const args = this.arguments(entries.get('arguments'), path, []);
    if (source?.value === '') this.report(source.node, `${path}.source: the default exchange "" takes no bindings`);
    if (!source || !destination || routingKey === undefined) return undefined;
    return {
      spec: { source: source.value, destination: destination.value, destinationKind, routingKey, arguments: args.table },
      sourceNode: source.node,
      destinationNode: destination.node,
    };
  }

  /** Display name and description, by the registries' rules, so that a long description fails the file, not the apply. */
  private texts(entries: Map<string, Pair<Scalar, Node | null>>, label: string): { displayName: string | undefined; description: string | undefined } {
    const displayName = this.string(entries.get('displayName'), label, 'displayName');
    const description = this.string(entries.get('description'), label, 'description');
    if (displayName !== undefined && (displayName.trim() === '' || [...displayName].length > MAX_DISPLAY_NAME_CHARS)) {
      this.report(entries.get('displayName')?.value, `${label}.displayName must be 1 to ${MAX_DISPLAY_NAME_CHARS} characters, not only spaces`);
    }
    if (description !== undefined && [...description].length > MAX_DESCRIPTION_CHARS) {
      this.report(entries.get('description')?.value, `${label}.description has ${[...description].length} characters; the limit is ${MAX_DESCRIPTION_CHARS}`);
    }
    return { displayName, description };
  }

  private service(node: Node, path: string): { spec: ServiceSpec; produces: Located<string>[]; consumes: Located<string>[] } | undefined {
    const entries = this.mapping(node, path, SERVICE_KEYS);
    if (!entries) return undefined;
    const name = this.name(entries, node, path);
    if (name && !SERVICE_NAME_PATTERN.test(name.value)) {
      this.report(name.node, `${path}.name "${name.value}" must be one word of letters, digits, "-" and "_" (no dots: its queues are named {service}.{topic})`);
    } else if (name) this.check(name.node, `${path}.name`, () => validateServiceName(name.value));
    const label = name ? `${path} (${name.value})` : path;
    const { displayName, description } = this.texts(entries, label);
    const produces = this.stringList(entries.get('produces'), label, 'produces');
    const consumes = this.stringList(entries.get('consumes'), label, 'consumes');
    for (const [key, list] of [['produces', produces], ['consumes', consumes]] as const) {
      const seen = new Set<string>();
      for (const topic of list) {
        if (seen.has(topic.value)) this.report(topic.node, `${label}.${key} lists topic "${topic.value}" twice`);
        seen.add(topic.value);
      }
    }
    if (!name) return undefined;
    const unique = (list: Located<string>[]): string[] => [...new Set(list.map((entry) => entry.value))];
    return {
      spec: {
        name: name.value,
        ...(displayName === undefined ? {} : { displayName }),
        ...(description === undefined ? {} : { description }),
        produces: unique(produces),
        consumes: unique(consumes),
      },
      produces,
      consumes,
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Rules across entities

  private check(node: Node, path: string, validate: () => void): void {
    try {
      validate();
    } catch (error) {
      if (!isBrokerError(error)) throw error;
      this.report(node, `${path}: ${error.message}`);
    }
  }

  private unique<T>(kind: string, entries: readonly Located<T>[], nameOf: (value: T) => string): void {
    const first = new Map<string, Node>();
    for (const entry of entries) {
      const name = nameOf(entry.value);
      const earlier = first.get(name);
      if (earlier) {
        const line = this.lines.linePos(earlier.range?.[0] ?? 0).line;
        this.report(entry.node, `duplicate ${kind} name "${name}" (first declared on line ${line})`);
      } else first.set(name, entry.node);
    }
  }

  private checkServices(services: readonly Located<{ spec: ServiceSpec; produces: Located<string>[]; consumes: Located<string>[] }>[], topics: ReadonlySet<string>): void {
    const declared = [...topics];
    for (const { value } of services) {
      for (const [verb, list] of [['produces', value.produces], ['consumes', value.consumes]] as const) {
        for (const topic of list) {
          if (topics.has(topic.value)) continue;
          const suggestion = closestMatch(topic.value, declared);
          this.report(
            topic.node,
            `service "${value.spec.name}" ${verb} topic "${topic.value}", which is not declared under topics${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          );
        }
      }
    }
  }

  /** A topic with retention keeps its history in a stream of its name, which shares the queues' namespace. */
  private checkTopicStreams(
    topics: readonly Located<TopicSpec>[],
    queues: readonly Located<QueueSpec>[],
    services: readonly Located<{ spec: ServiceSpec }>[],
  ): void {
    const queueNames = new Set([
      ...queues.map((entry) => entry.value.name),
      ...services.flatMap((entry) => entry.value.spec.consumes.map((topic) => serviceQueueName(entry.value.spec.name, topic))),
    ]);
    for (const { value: topic, node } of topics) {
      if (topic.retention && queueNames.has(topic.name)) {
        this.report(node, `topic "${topic.name}" keeps its history in a stream of that name, but a queue is also named "${topic.name}"`);
      }
    }
  }

  private checkBindings(
    bindings: readonly Located<BindingEntry>[],
    exchanges: readonly Located<ExchangeSpec>[],
    queues: readonly Located<QueueSpec>[],
    services: readonly Located<{ spec: ServiceSpec }>[],
  ): void {
    const exchangeNames = exchanges.map((entry) => entry.value.name);
    const queueNames = [
      ...queues.map((entry) => entry.value.name),
      ...services.flatMap((entry) => entry.value.spec.consumes.map((topic) => serviceQueueName(entry.value.spec.name, topic))),
    ];
    const isExchange = (name: string): boolean => name.startsWith('amq.') || exchangeNames.includes(name);
    for (const { value: entry } of bindings) {
      const binding = entry.spec;
      if (binding.source !== '' && !isExchange(binding.source)) {
        const suggestion = closestMatch(binding.source, exchangeNames);
        this.report(entry.sourceNode, `binding source exchange "${binding.source}" is not declared under exchanges${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
      }
      const known = binding.destinationKind === 'queue' ? queueNames.includes(binding.destination) : isExchange(binding.destination);
      if (!known) {
        const candidates = binding.destinationKind === 'queue' ? queueNames : exchangeNames;
        const suggestion = closestMatch(binding.destination, candidates);
        this.report(
          entry.destinationNode,
          `binding destination ${binding.destinationKind} "${binding.destination}" is not declared under ${binding.destinationKind === 'queue' ? 'queues (or as a service queue)' : 'exchanges'}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
        );
      }
    }
  }
}

function scalarText(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? typeof value;
}

function scalarValue(node: Node | null): unknown {
  return isScalar(node) ? node.value : undefined;
}

function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return 'nothing';
    return typeof value === 'string' ? `"${value}"` : `${typeof value} ${scalarText(value)}`;
  }
  return 'something else';
}

function toHeaderValue(node: Node | null): HeaderValue {
  if (node === null) return null;
  const json: unknown = node.toJSON();
  return json as HeaderValue;
}
