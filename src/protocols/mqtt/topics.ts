/**
 * MQTT topic names and filters, and their mapping to the core's routing keys and topic patterns
 * (DESIGN.md §3, RabbitMQ's convention): levels are separated by `/` in MQTT and by `.` in routing keys,
 * and a `.` inside an MQTT level travels as `/`. The mapping swaps the two characters, so it is its own
 * inverse and loses nothing. Wildcards: `+` <-> `*`, `#` <-> `#`.
 */

const SLASH = 0x2f;
const DOT = 0x2e;

/** Swaps `/` and `.`; used in both directions. */
function swapSeparators(text: string): string {
  const hasDot = text.indexOf('.') !== -1;
  if (!hasDot) return text.indexOf('/') === -1 ? text : text.replaceAll('/', '.');
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== SLASH && code !== DOT) continue;
    out += text.slice(from, i) + (code === SLASH ? '.' : '/');
    from = i + 1;
  }
  return out + text.slice(from);
}

/**
 * A one-entry memo per direction: a publisher mostly repeats its topic, and each delivery of a fan-out
 * converts the same routing key, so the common case is a comparison instead of a new string.
 */
let lastTopic = '';
let lastRoutingKey = '';
let lastKeyIn = '';
let lastTopicOut = '';

/** MQTT topic name -> routing key on `amq.topic`. */
export function topicToRoutingKey(topic: string): string {
  if (topic !== lastTopic) {
    lastRoutingKey = swapSeparators(topic);
    lastTopic = topic;
  }
  return lastRoutingKey;
}

/** Routing key -> MQTT topic name. */
export function routingKeyToTopic(routingKey: string): string {
  if (routingKey !== lastKeyIn) {
    lastTopicOut = swapSeparators(routingKey);
    lastKeyIn = routingKey;
  }
  return lastTopicOut;
}

/** MQTT topic filter -> topic pattern for a binding to `amq.topic`. */
export function filterToPattern(filter: string): string {
  return swapSeparators(filter)
    .split('.')
    .map((level) => (level === '+' ? '*' : level))
    .join('.');
}

/** Binding pattern -> MQTT topic filter (rebuilding a persistent session's subscriptions). */
export function patternToFilter(pattern: string): string {
  return swapSeparators(
    pattern
      .split('.')
      .map((level) => (level === '*' ? '+' : level))
      .join('.'),
  );
}

export type TopicNameProblem = 'empty' | 'wildcard' | undefined;

/**
 * A topic name for PUBLISH (and a will topic): at least one character [MQTT-4.7.3-1] and no wildcard
 * [MQTT-3.3.2-2] [MQTT-4.7.1-1]. UTF-8 well-formedness is checked by the decoder.
 */
export function topicNameProblem(topic: string): TopicNameProblem {
  if (topic.length === 0) return 'empty';
  if (topic.indexOf('+') !== -1 || topic.indexOf('#') !== -1) return 'wildcard';
  return undefined;
}

/**
 * A topic filter: at least one character [MQTT-4.7.3-1]; `#` alone in the last level [MQTT-4.7.1-2];
 * `+` alone in its level [MQTT-4.7.1-3].
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

/** `$share/{group}/{filter}`: a shared subscription (MQTT 5.0 4.8.2), not supported yet. */
export function isSharedSubscription(filter: string): boolean {
  return filter.startsWith('$share/');
}

/**
 * Whether a topic name matches a filter, MQTT's rules: `+` one level, `#` the rest (including the parent
 * level), and a topic starting with `$` is not matched by a filter starting with a wildcard [MQTT-4.7.2-1].
 */
export function topicMatchesFilter(topic: string, filter: string): boolean {
  const first = filter.charCodeAt(0);
  if (topic.charCodeAt(0) === 0x24 && (first === 0x2b || first === 0x23)) return false;
  const topicLevels = topic.split('/');
  const filterLevels = filter.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i]!;
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return topicLevels.length === filterLevels.length;
}
