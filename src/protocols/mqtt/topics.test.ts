import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  filterToPattern,
  isSharedSubscription,
  isValidTopicFilter,
  patternToFilter,
  routingKeyToTopic,
  topicMatchesFilter,
  topicNameProblem,
  topicToRoutingKey,
} from './topics.js';

describe('mqtt topic mapping', () => {
  it('maps levels to words and a dot inside a level to a slash (DESIGN.md §3)', () => {
    const table: [string, string][] = [
      ['a/b/c', 'a.b.c'],
      ['sensors/room.1/temp', 'sensors.room/1.temp'],
      ['plain', 'plain'],
      ['/leading', '.leading'],
      ['trailing/', 'trailing.'],
      ['a//b', 'a..b'],
      ['v1.2.3', 'v1/2/3'],
      ['$SYS/broker/uptime', '$SYS.broker.uptime'],
      ['ünï/cödé', 'ünï.cödé'],
    ];
    for (const [topic, key] of table) {
      assert.equal(topicToRoutingKey(topic), key, topic);
      assert.equal(routingKeyToTopic(key), topic, key);
    }
  });

  it('is its own inverse on any string', () => {
    for (const text of ['', '/', '.', './/.', 'a.b/c.d/e', 'x'.repeat(100)]) {
      assert.equal(routingKeyToTopic(topicToRoutingKey(text)), text);
    }
  });

  it('maps filter wildcards: + to *, # to #, only as whole levels', () => {
    const table: [string, string][] = [
      ['a/+/c', 'a.*.c'],
      ['a/#', 'a.#'],
      ['#', '#'],
      ['+', '*'],
      ['+/+', '*.*'],
      ['dots.in/+/level.x/#', 'dots/in.*.level/x.#'],
    ];
    for (const [filter, pattern] of table) {
      assert.equal(filterToPattern(filter), pattern, filter);
      assert.equal(patternToFilter(pattern), filter, pattern);
    }
  });

  it('validates topic names: non-empty, no wildcards [MQTT-4.7.3-1] [MQTT-3.3.2-2]', () => {
    assert.equal(topicNameProblem('a/b'), undefined);
    assert.equal(topicNameProblem('/'), undefined);
    assert.equal(topicNameProblem(''), 'empty');
    assert.equal(topicNameProblem('a/+'), 'wildcard');
    assert.equal(topicNameProblem('a/#'), 'wildcard');
    assert.equal(topicNameProblem('a+b'), 'wildcard');
  });

  it('validates topic filters [MQTT-4.7.1-2] [MQTT-4.7.1-3]', () => {
    for (const valid of ['#', '+', 'a/#', 'a/+/b', '+/+', '/', 'a//b', '/#', '$SYS/#', '+/#']) {
      assert.ok(isValidTopicFilter(valid), valid);
    }
    for (const invalid of ['', 'a/#/b', 'a#', 'a/b#', '#/a', 'a+', 'a/+b', '++']) {
      assert.ok(!isValidTopicFilter(invalid), invalid);
    }
  });

  it('matches topics against filters, hiding $ topics from leading wildcards [MQTT-4.7.2-1]', () => {
    const matches: [string, string][] = [
      ['a/b/c', 'a/+/c'],
      ['a/b/c', 'a/#'],
      ['a', 'a/#'],
      ['a/', 'a/+'],
      ['a/b', '#'],
      ['$SYS/x', '$SYS/#'],
      ['$SYS/x', '$SYS/+'],
      ['/x', '+/x'],
    ];
    const misses: [string, string][] = [
      ['a/b/c', 'a/+'],
      ['a', 'a/+'],
      ['b/c', 'a/#'],
      ['$SYS/x', '#'],
      ['$SYS/x', '+/x'],
    ];
    for (const [topic, filter] of matches) assert.ok(topicMatchesFilter(topic, filter), `${topic} ~ ${filter}`);
    for (const [topic, filter] of misses) assert.ok(!topicMatchesFilter(topic, filter), `${topic} !~ ${filter}`);
  });

  it('recognises shared subscriptions', () => {
    assert.ok(isSharedSubscription('$share/group/a/b'));
    assert.ok(!isSharedSubscription('$shared/a'));
  });
});
