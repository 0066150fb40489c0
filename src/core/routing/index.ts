/** Routing: exchanges, bindings and the topic-pattern trie. */
export { BUILTIN_EXCHANGES, declareBuiltins, isBuiltinExchange } from './builtins.js';
export {
  compileHeadersBinding,
  headersMatch,
  headerTablesEqual,
  headerValuesEqual,
  parseHeadersMatchMode,
  type CompiledHeadersBinding,
  type HeadersMatchMode,
} from './headers-match.js';
export { RouteResult } from './route-result.js';
export { ALTERNATE_EXCHANGE_ARGUMENT, DEFAULT_EXCHANGE, Router, type RemovedExchange } from './router.js';
export { normalizeTopicPattern, splitTopic, splitTopicInto, TopicTrie, type TopicMatchSink } from './topic-trie.js';
