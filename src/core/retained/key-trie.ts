/**
 * Stored keys (routing keys) indexed by their `.`-separated words, searched with a topic pattern: the
 * inverse of the routing trie, which stores patterns and is searched with a key. A retained-message
 * lookup on subscribe walks only the branches the pattern can match.
 *
 * Word semantics are those of the topic exchange (`routing/topic-trie.ts`): empty words are real words,
 * the empty key has none, `*` matches one word and `#` zero or more.
 */
import { normalizeTopicPattern, splitTopic } from '../routing/topic-trie.js';

class KeyNode<T> {
  children: Map<string, KeyNode<T>> | undefined = undefined;
  value: T | undefined = undefined;

  isEmpty(): boolean {
    return this.value === undefined && (this.children?.size ?? 0) === 0;
  }
}

export class KeyTrie<T> {
  private readonly root = new KeyNode<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): T | undefined {
    let node: KeyNode<T> | undefined = this.root;
    for (const word of splitTopic(key)) {
      node = node.children?.get(word);
      if (!node) return undefined;
    }
    return node.value;
  }

  /** Sets the value of `key`; returns the value it replaces. */
  set(key: string, value: T): T | undefined {
    let node = this.root;
    for (const word of splitTopic(key)) {
      node.children ??= new Map();
      let child = node.children.get(word);
      if (!child) node.children.set(word, (child = new KeyNode<T>()));
      node = child;
    }
    const previous = node.value;
    if (previous === undefined) this.count += 1;
    node.value = value;
    return previous;
  }

  /** Removes `key`, pruning branches left empty; returns the removed value. */
  delete(key: string): T | undefined {
    const words = splitTopic(key);
    const path: KeyNode<T>[] = [this.root];
    let node = this.root;
    for (const word of words) {
      const child = node.children?.get(word);
      if (!child) return undefined;
      path.push(child);
      node = child;
    }
    const previous = node.value;
    if (previous === undefined) return undefined;
    node.value = undefined;
    this.count -= 1;
    for (let i = words.length; i > 0; i--) {
      const current = path[i]!;
      if (!current.isEmpty()) break;
      path[i - 1]!.children!.delete(words[i - 1]!);
    }
    return previous;
  }

  values(): T[] {
    const out: T[] = [];
    // Iterative: a key may have tens of thousands of words (an MQTT topic of 65535 slashes).
    const stack: KeyNode<T>[] = [this.root];
    for (let node = stack.pop(); node; node = stack.pop()) {
      if (node.value !== undefined) out.push(node.value);
      for (const child of node.children?.values() ?? []) stack.push(child);
    }
    return out;
  }

  /** Values whose key matches the topic pattern, each once, in no particular order. */
  match(pattern: string): T[] {
    const words = normalizeTopicPattern(splitTopic(pattern));
    const found = new Set<T>();
    // (node, position) pairs already expanded: patterns with several `#` reach a node many ways.
    const visited = new Map<KeyNode<T>, Set<number>>();
    const nodes: KeyNode<T>[] = [this.root];
    const positions: number[] = [0];
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const index = positions.pop()!;
      let seen = visited.get(node);
      if (!seen) visited.set(node, (seen = new Set()));
      if (seen.has(index)) continue;
      seen.add(index);
      if (index === words.length) {
        if (node.value !== undefined) found.add(node.value);
        continue;
      }
      const word = words[index]!;
      if (word === '#') {
        nodes.push(node);
        positions.push(index + 1);
        for (const child of node.children?.values() ?? []) {
          nodes.push(child);
          positions.push(index);
        }
      } else if (word === '*') {
        for (const child of node.children?.values() ?? []) {
          nodes.push(child);
          positions.push(index + 1);
        }
      } else {
        const child = node.children?.get(word);
        if (child) {
          nodes.push(child);
          positions.push(index + 1);
        }
      }
    }
    return [...found];
  }
}
