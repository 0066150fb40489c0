import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { destinationOf, parseDestination } from './destination.js';

describe('STOMP destinations', () => {
  it('parses every destination type', () => {
    assert.deepEqual(parseDestination('/queue/orders'), { kind: 'queue', queue: 'orders' });
    assert.deepEqual(parseDestination('/amq/queue/orders'), { kind: 'amq-queue', queue: 'orders' });
    assert.deepEqual(parseDestination('/topic/a.b.*'), { kind: 'topic', routingKey: 'a.b.*' });
    assert.deepEqual(parseDestination('/exchange/logs/error.#'), { kind: 'exchange', exchange: 'logs', routingKey: 'error.#' });
    assert.deepEqual(parseDestination('/exchange/logs'), { kind: 'exchange', exchange: 'logs', routingKey: '' });
    assert.deepEqual(parseDestination('/exchange/logs/a/b'), { kind: 'exchange', exchange: 'logs', routingKey: 'a/b' });
    assert.deepEqual(parseDestination('/temp-queue/replies'), { kind: 'temp-queue', name: 'replies' });
    assert.deepEqual(parseDestination('/reply-queue/amq.gen-x'), { kind: 'reply-queue', queue: 'amq.gen-x' });
  });

  it('refuses unknown types and empty names', () => {
    for (const text of ['', 'orders', '/queue/', '/topic/', '/exchange/', '/exchange//k', '/temp-queue/', '/amq/queue/', '/foo/bar', 'queue/x']) {
      assert.equal(parseDestination(text), undefined, text);
    }
  });

  it('names a message by where it was published', () => {
    assert.equal(destinationOf('', 'q'), '/queue/q');
    assert.equal(destinationOf('amq.topic', 'a.b'), '/topic/a.b');
    assert.equal(destinationOf('logs', 'k'), '/exchange/logs/k');
  });
});
