/**
 * AMQP topic patterns indexed as a trie.
 *
 * Semantics (RabbitMQ's, `rabbit_exchange_type_topic`):
 * - Keys and patterns are split on `.` into words. Empty words are real words: `a..b` has three words
 *   (`a`, ``, `b`), `a.` has two, `.` has two empty words. The empty string is the one exception: it has
 *   zero words (so pattern `""` matches only key `""`, `#` matches `""`, `*` does not).
 * - `*` matches exactly one word (possibly empty), `#` zero or more words. Both are special only as whole
 *   words: `a*` and `#b` are literal.
 *
 * Cost of a match: the walk follows only the branches that can still match (the literal child of the
 * current word, the `*` child and the `#` child), so it depends on the key length and on the number of
 * live branches, never on the total number of patterns. A `#` node is entered at most once per key
 * position per match (see `memoFrom`), which keeps adversarial patterns such as `#.a.#.a.#` polynomial
 * in the key length instead of exponential.
 */

/** Receives the values of matching patterns; a `Set` works. A value is reported once per matching pattern. */
export interface TopicMatchSink<T> {
  add(value: T): unknown;
}

class TopicNode<T> {
  /** Literal words. Created lazily: most leaves have no children. */
  children: Map<string, TopicNode<T>> | undefined = undefined;
  star: TopicNode<T> | undefined = undefined;
  hash: TopicNode<T> | undefined = undefined;
  /** Values of the patterns ending here; one entry per `add` (duplicates are kept, as a multiset). */
  values: T[] = [];
  /** Match generation in which `memoFrom` was set. */
  memoEpoch = 0;
  /**
   * Lowest key position from which this `#` node was already expanded in the current match. Expanding
   * from position i covers every position >= i, so a later request for j >= memoFrom is already done.
   */
  memoFrom = 0;

  isEmpty(): boolean {
    return this.values.length === 0 && this.star === undefined && this.hash === undefined && (this.children?.size ?? 0) === 0;
  }
}

/**
 * Splits a routing key or pattern into `words` (reused by the caller to avoid allocating an array per
 * message) and returns the word count. Entries past the count are stale and must be ignored.
 */
export function splitTopicInto(key: string, words: string[]): number {
  if (key.length === 0) return 0;
  let count = 0;
  let start = 0;
  for (;;) {
    const dot = key.indexOf('.', start);
    if (dot === -1) {
      words[count++] = key.slice(start);
      return count;
    }
    words[count++] = key.slice(start, dot);
    start = dot + 1;
  }
}

/** Splits a key or pattern into words, `""` giving none. */
export function splitTopic(key: string): string[] {
  const words: string[] = [];
  splitTopicInto(key, words);
  return words;
}

/**
 * Rewrites a pattern to the canonical form the trie stores: runs of `#` words collapse to one (`#.#`
 * matches exactly what `#` matches), which both shares trie nodes and bounds the matching work.
 */
export function normalizeTopicPattern(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const word of words) {
    if (word === '#' && out[out.length - 1] === '#') continue;
    out.push(word);
  }
  return out;
}

export class TopicTrie<T> {
  private readonly root = new TopicNode<T>();
  private count = 0;
  private epoch = 0;
  // Scratch reused across matches (matching is synchronous).
  private readonly words: string[] = [];
  private readonly stackNodes: (TopicNode<T> | undefined)[] = [];
  private readonly stackPositions: number[] = [];

  /** Number of (pattern, value) entries held. */
  get size(): number {
    return this.count;
  }

  /** Adds one entry. Adding the same (pattern, value) twice keeps two entries; `remove` drops one. */
  add(pattern: string, value: T): void {
    let node = this.root;
    for (const word of normalizeTopicPattern(splitTopic(pattern))) {
      node = this.childFor(node, word);
    }
    node.values.push(value);
    this.count++;
  }

  /** Removes one entry with this pattern and value (compared with `===`); false when there was none. */
  remove(pattern: string, value: T): boolean {
    const words = normalizeTopicPattern(splitTopic(pattern));
    const path: TopicNode<T>[] = [this.root];
    let node: TopicNode<T> | undefined = this.root;
    for (const word of words) {
      node = word === '*' ? node.star : word === '#' ? node.hash : node.children?.get(word);
      if (node === undefined) return false;
      path.push(node);
    }
    const index = node.values.indexOf(value);
    if (index === -1) return false;
    node.values.splice(index, 1);
    this.count--;
    // Prune now-empty nodes bottom-up so a churn of subscriptions does not leak trie nodes.
    for (let depth = words.length; depth > 0; depth--) {
      const child = path[depth]!;
      if (!child.isEmpty()) break;
      const parent = path[depth - 1]!;
      const word = words[depth - 1]!;
      if (word === '*') parent.star = undefined;
      else if (word === '#') parent.hash = undefined;
      else {
        parent.children?.delete(word);
        if (parent.children?.size === 0) parent.children = undefined;
      }
    }
    return true;
  }

  /** Reports to `sink` the value of every entry whose pattern matches `routingKey`. */
  match(routingKey: string, sink: TopicMatchSink<T>): void {
    const length = splitTopicInto(routingKey, this.words);
    this.matchWords(this.words, length, sink);
  }

  /**
   * Like `match`, for a key already split with `splitTopicInto` (the router splits a key once and
   * matches it against every topic exchange a message crosses). Not re-entrant: `sink.add` must not
   * match against this same trie.
   */
  matchWords(words: readonly string[], length: number, sink: TopicMatchSink<T>): void {
    if (this.count === 0) return;
    const epoch = ++this.epoch;
    // An explicit stack of (node, words consumed) states rather than recursion: MQTT topics may have
    // thousands of levels, and the arrays are reused so a match allocates nothing.
    const nodes = this.stackNodes;
    const positions = this.stackPositions;
    nodes[0] = this.root;
    positions[0] = 0;
    let top = 1;
    let highWater = 1;
    while (top > 0) {
      if (top > highWater) highWater = top;
      top--;
      const node = nodes[top]!;
      const position = positions[top]!;
      const hashNode = node.hash;
      if (hashNode !== undefined) {
        // The `#` may swallow 0..(length - position) words: its node is due at every later position.
        // Expanding from position p covers every position >= p, so each `#` node is expanded at most
        // once per key position per match, whatever the number of paths leading to it.
        let until = length + 1;
        if (hashNode.memoEpoch === epoch) until = Math.min(until, hashNode.memoFrom);
        else hashNode.memoEpoch = epoch;
        if (position < until) {
          hashNode.memoFrom = position;
          for (let next = position; next < until; next++) {
            nodes[top] = hashNode;
            positions[top] = next;
            top++;
          }
        }
      }
      if (position === length) {
        const values = node.values;
        for (let i = 0; i < values.length; i++) sink.add(values[i]!);
        continue;
      }
      const child = node.children?.get(words[position]!);
      if (child !== undefined) {
        nodes[top] = child;
        positions[top] = position + 1;
        top++;
      }
      if (node.star !== undefined) {
        nodes[top] = node.star;
        positions[top] = position + 1;
        top++;
      }
    }
    // Drop the references this match left in the scratch stack, so removed subtrees can be collected.
    nodes.fill(undefined, 0, highWater + 1);
  }

  private childFor(node: TopicNode<T>, word: string): TopicNode<T> {
    if (word === '*') return (node.star ??= new TopicNode<T>());
    if (word === '#') return (node.hash ??= new TopicNode<T>());
    node.children ??= new Map();
    let child = node.children.get(word);
    if (child === undefined) {
      child = new TopicNode<T>();
      node.children.set(word, child);
    }
    return child;
  }
}
