import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  escapeHelp,
  escapeLabelValue,
  ExpositionWriter,
  formatValue,
  labelPairs,
  sanitizeLabelName,
  sanitizeMetricName,
} from './exposition.js';

describe('exposition format pieces', () => {
  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeLabelValue("plain 'text' {x}=1, é"), "plain 'text' {x}=1, é");
  });

  it('escapes backslash and line feed in HELP, but not quotes', () => {
    assert.equal(escapeHelp('say "hi"\\now\nthen'), 'say "hi"\\\\now\\nthen');
  });

  it('formats special values as the format spells them', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(0.00025), '0.00025');
    assert.equal(formatValue(42), '42');
  });

  it('makes names valid', () => {
    assert.equal(sanitizeMetricName('courier.queue-depth'), 'courier_queue_depth');
    assert.equal(sanitizeMetricName('9lives'), '_9lives');
    assert.equal(sanitizeMetricName('ns:metric_total'), 'ns:metric_total');
    assert.equal(sanitizeLabelName('x-death'), 'x_death');
    assert.equal(sanitizeLabelName('a:b'), 'a_b');
    assert.equal(sanitizeLabelName('__name__'), 'label__name__');
  });

  it('sorts label names so that one label set always gives one text', () => {
    assert.equal(labelPairs({ queue: 'q', reason: 'expired' }), 'queue="q",reason="expired"');
    assert.equal(labelPairs({ reason: 'expired', queue: 'q' }), 'queue="q",reason="expired"');
    assert.equal(labelPairs({}), '');
    assert.equal(labelPairs(undefined), '');
  });

  it('leaves out a reserved label and keeps the first of two names that sanitize alike', () => {
    assert.equal(labelPairs({ le: '1', queue: 'q' }, 'le'), 'queue="q"');
    assert.equal(labelPairs({ 'a-b': '1', a_b: '2' }), 'a_b="1"');
  });

  it('writes families and samples, every line ending with a line feed', () => {
    const writer = new ExpositionWriter();
    assert.equal(writer.text(), '');
    writer.family('up', 'gauge', 'Whether it is up.');
    writer.sample('up', '', 1);
    writer.sample('up', 'node="a"', 0);
    assert.equal(writer.text(), '# HELP up Whether it is up.\n# TYPE up gauge\nup 1\nup{node="a"} 0\n');
  });
});
