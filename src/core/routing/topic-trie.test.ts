 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeTopicPattern, splitTopic, splitTopicInto, TopicTrie } from './topic-trie.js';

/**
 * The reference: a direct transcription of the matching rules over word lists, with its own split, so
 * a bug in the trie's splitting or walking cannot hide behind shared code.
 */
function referenceWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

function referenceMatch(pattern: string, key: string): boolean {
  const p = referenceWords(pattern);
  const k = referenceWords(key);
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const id = `${i},${j}`;
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    let result: boolean;
    if (i === p.length) result = j === k.length;
    else if (p[i] === '#') result = go(i + 1, j) || (j < k.length && go(i, j + 1));
    else result = j < k.length && (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
    memo.set(id, result);
    return result;
  };
  return go(0, 0);
}

function matchAll<T>(trie: TopicTrie<T>, key: string): T[] {
  const out: T[] = [];
  trie.match(key, { add: (value: T) => out.push(value) });
  return out;
}

function trieMatches(pattern: string, key: string): boolean {
  const trie = new TopicTrie<string>();
  trie.add(pattern, 'x');
  return matchAll(trie, key).length === 1;
}

const cases: readonly [pattern: string, key: string, matches: boolean][] = [
  ['a.b.c', 'a.b.c', true],
  ['a.b.c', 'a.b', false],
  ['a.b', 'a.b.c', false],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.c', false],
  ['a.*', 'a', false],
  ['*', '', false],
  ['*', 'a', true],
  ['*', 'a.b', false],
  // `#` matches zero levels, also in the middle and at the start.
  ['a.#', 'a', true],
  ['a.#', 'a.b.c', true],
  ['#.a', 'a', true],
  ['a.#.b', 'a.b', true],
  ['a.#.b', 'a.x.y.b', true],
  ['a.#.b', 'a.x.y', false],
  ['#', '', true],
  ['#', 'a', true],
  ['#', 'a.b.c', true],
  ['#', '.', true],
  ['#.#', '', true],
  ['#.#', 'a.b', true],
  ['a.#.#.b', 'a.b', true],
  ['*.#.*', 'a', false],
  ['*.#.*', 'a.b', true],
  ['*.#.*', 'a.b.c.d', true],
  ['#.*', '', false],
  ['#.*', 'a', true],
  ['*.*', 'a.b', true],
  ['*.*', 'a', false],
  // Empty words are words; the empty key alone has none.
  ['', '', true],
  ['', 'a', false],
  ['a', '', false],
  ['a..b', 'a..b', true],
  ['a.*.b', 'a..b', true],
  ['a.b', 'a..b', false],
  ['*', '.', false],
  ['*.*', '.', true],
  ['.', '.', true],
  ['a.', 'a', false],
  ['a.', 'a.', true],
  ['a.*', 'a.', true],
  ['.a', '.a', true],
  ['*.a', '.a', true],
  ['a.#', 'a.', true],
  // Wildcards are special only as whole words.
  ['a*', 'ab', false],
  ['a*', 'a*', true],
  ['#a', 'a', false],
  ['#a', '#a', true],
  ['a.b', 'a.*', false],
  ['a.*', 'a.*', true],
  ['a.#', 'a.#', true],
];

describe('topic patterns', () => {
  for (const [pattern, key, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(key)}`, () => {
      assert.equal(referenceMatch(pattern, key), expected, 'reference matcher disagrees with the table');
      assert.equal(trieMatches(pattern, key), expected);
    });
  }
});

describe('splitTopic', () => {
  it('gives no word for the empty key and empty words around dots', () => {
    assert.deepEqual(splitTopic(''), []);
    assert.deepEqual(splitTopic('a'), ['a']);
    assert.deepEqual(splitTopic('.'), ['', '']);
    assert.deepEqual(splitTopic('a..b.'), ['a', '', 'b', '']);
  });

  it('reuses the caller array and reports the count', () => {
    const words = ['stale', 'stale', 'stale', 'stale'];
    assert.equal(splitTopicInto('x.y', words), 2);
    assert.deepEqual(words.slice(0, 2), ['x', 'y']);
  });

  it('collapses runs of # only', () => {
    assert.deepEqual(normalizeTopicPattern(['#', '#', 'a', '#', '*', '#', '#']), ['#', 'a', '#', '*', '#']);
  });
});

// Small alphabets make collisions (and so matches) frequent enough to exercise every branch.
const patternWord = fc.constantFrom('a', 'b', '', '*', '#');
const keyWord = fc.constantFrom('a', 'b', '');
const pattern = fc.array(patternWord, { maxLength: 6 }).map((words) => words.join('.'));
const key = fc.array(keyWord, { maxLength: 7 }).map((words) => words.join('.'));

describe('TopicTrie against the reference matcher', () => {
  it('reports exactly the matching patterns, once each', () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 25 }), fc.array(key, { minLength: 1, maxLength: 10 }), (patterns, keys) => {
        const trie = new TopicTrie<number>();
        patterns.forEach((p, index) => trie.add(p, index));
        for (const k of keys) {
          const expected = patterns.flatMap((p, index) => (referenceMatch(p, k) ? [index] : []));
          const actual = matchAll(trie, k).sort((x, y) => x - y);
          assert.deepEqual(actual, expected, `key ${JSON.stringify(k)}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('stays equal to the reference after a random sequence of adds and removes', () => {
    const operation = fc.record({ add: fc.boolean(), pattern, value: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), fc.array(key, { minLength: 1, maxLength: 8 }), (operations, keys) => {
        const trie = new TopicTrie<number>();
        const model: { pattern: string; value: number }[] = [];
        for (const op of operations) {
          if (op.add) {
            trie.add(op.pattern, op.value);
            model.push({ pattern: op.pattern, value: op.value });
          } else {
            // `#.#` and `#` are the same stored pattern: removal is by normalized pattern.
            const wanted = normalizeTopicPattern(splitTopic(op.pattern)).join('\u0000');
            const index = model.findIndex(
              (entry) => entry.value === op.value && normalizeTopicPattern(splitTopic(entry.pattern)).join('\u0000') === wanted,
            );
            assert.equal(trie.remove(op.pattern, op.value), index !== -1);
            if (index !== -1) model.splice(index, 1);
          }
          assert.equal(trie.size, model.length);
        }
        for (const k of keys) {
          const expected = model.filter((entry) => referenceMatch(entry.pattern, k)).map((entry) => entry.value);
          const actual = matchAll(trie, k);
          assert.deepEqual(actual.sort(), expected.sort(), `key ${JSON.stringify(k)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('TopicTrie', () => {
  it('keeps one entry per add and removes one per remove', () => {
    const trie = new TopicTrie<string>();
    trie.add('a.*', 'q');
    trie.add('a.*', 'q');
    trie.add('#', 'q');
    assert.deepEqual(matchAll(trie, 'a.b'), ['q', 'q', 'q']);
    assert.equal(trie.remove('a.*', 'q'), true);
    assert.deepEqual(matchAll(trie, 'a.b'), ['q', 'q']);
    assert.equal(trie.remove('a.*', 'other'), false);
    assert.equal(trie.remove('a.b', 'q'), false);
    assert.equal(trie.remove('a.*', 'q'), true);
    assert.equal(trie.remove('a.*', 'q'), false);
    assert.equal(trie.remove('#.#', 'q'), true, '#.# is stored as #');
    assert.equal(trie.size, 0);
    assert.deepEqual(matchAll(trie, 'a.b'), []);
  });

  it('keeps sibling branches when pruning a removed one', () => {
    const trie = new TopicTrie<string>();
    trie.add('a.b.c', 'one');
    trie.add('a.b', 'two');
    trie.add('a.b.d', 'three');
    trie.remove('a.b.c', 'one');
    assert.deepEqual(matchAll(trie, 'a.b'), ['two']);
    assert.deepEqual(matchAll(trie, 'a.b.d'), ['three']);
    trie.remove('a.b', 'two');
    assert.deepEqual(matchAll(trie, 'a.b.d'), ['three']);
    trie.add('a.b.c', 'again');
    assert.deepEqual(matchAll(trie, 'a.b.c'), ['again']);
  });

  it('reports each matching pattern once under many # paths (adversarial pattern, long key)', () => {
    const trie = new TopicTrie<string>();
    trie.add('#.a.#.a.#.a.#.a.#.a.#', 'deep');
    trie.add('#.b', 'tail');
    const key = Array.from({ length: 300 }, () => 'a').join('.');
    assert.deepEqual(matchAll(trie, key), ['deep']);
    assert.deepEqual(matchAll(trie, `${key}.b`).sort(), ['deep', 'tail']);
    assert.deepEqual(matchAll(trie, 'a.a.a.a.b'), ['tail'], 'four a: the deep pattern needs five');
  });

  it('handles keys and patterns with thousands of levels without deep recursion', () => {
    const trie = new TopicTrie<string>();
    const levels = Array.from({ length: 20_000 }, (_, i) => `l${i % 7}`);
    trie.add(levels.join('.'), 'exact');
    trie.add(`${levels.slice(0, 10).join('.')}.#`, 'prefix');
    trie.add(`#.${levels.slice(-3).join('.')}`, 'suffix');
    assert.deepEqual(matchAll(trie, levels.join('.')).sort(), ['exact', 'prefix', 'suffix']);
  });
});
