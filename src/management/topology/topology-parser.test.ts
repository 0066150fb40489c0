import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue, parseTopology, type TopologyIssue } from './topology-parser.js';

function issuesOf(text: string): TopologyIssue[] {
  const result = parseTopology(text, 'courier.yaml');
  assert.equal(result.ok, false, 'the file should be refused');
  return result.ok ? [] : [...result.issues];
}

function only(text: string): string {
  const issues = issuesOf(text);
  assert.equal(issues.length, 1, issues.map(formatIssue).join('\n'));
  return formatIssue(issues[0]!);
}

describe('topology parser', () => {
  it('reads a full document with defaults filled in', () => {
    const result = parseTopology(
      [
        'topics:',
        '  - name: orders.created',
        '    displayName: Order created',
        '    description: A customer placed an order.',
        '    retention: { maxAge: 7d, maxBytes: 1GiB }',
        '  - name: orders.shipped',
        'exchanges:',
        '  - { name: billing, type: direct }',
        'queues:',
        '  - name: invoices',
        '    arguments: { x-message-ttl: 60000, x-dead-letter-exchange: billing }',
        'bindings:',
        '  - { source: billing, destination: invoices, routingKey: invoice }',
        'services:',
        '  - { name: billing, produces: [orders.shipped], consumes: [orders.created] }',
        '',
      ].join('\n'),
      'courier.yaml',
    );
    assert.ok(result.ok, JSON.stringify(result));
    const { document } = result;
    assert.deepEqual(document.topics, [
      { name: 'orders.created', displayName: 'Order created', description: 'A customer placed an order.', retention: { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 ** 3 } },
      { name: 'orders.shipped', displayName: 'orders.shipped', description: '' },
    ]);
    assert.deepEqual(document.exchanges, [{ name: 'billing', type: 'direct', durable: true, autoDelete: false, internal: false, arguments: {} }]);
    assert.deepEqual(document.queues, [
      { name: 'invoices', durable: true, autoDelete: false, arguments: { 'x-message-ttl': 60000, 'x-dead-letter-exchange': 'billing' } },
    ]);
    assert.deepEqual(document.bindings, [{ source: 'billing', destination: 'invoices', destinationKind: 'queue', routingKey: 'invoice', arguments: {} }]);
    assert.deepEqual(document.services, [{ name: 'billing', produces: ['orders.shipped'], consumes: ['orders.created'] }]);
  });

  it('an empty file is an empty topology', () => {
    for (const text of ['', '# nothing yet\n', 'topics:\n']) {
      const result = parseTopology(text, 'courier.yaml');
      assert.ok(result.ok);
      assert.deepEqual(result.document.topics, []);
    }
  });

  it('an unknown key names its line and column and the closest known key', () => {
    assert.equal(only('queues:\n  - name: jobs\n    durabel: true\n'), 'courier.yaml:3:5: queues[0] (jobs): unknown key "durabel" (did you mean "durable"?)');
    assert.equal(only('topic:\n  - name: a\n'), 'courier.yaml:1:1: the file: unknown key "topic" (did you mean "topics"?)');
    assert.match(only('colours: 3\n'), /^courier\.yaml:1:1: the file: unknown key "colours"; known keys are topics, exchanges, queues, bindings, services$/);
  });

  it('a misspelt queue argument is caught; an unrelated x- argument is kept, as the broker keeps it', () => {
    assert.equal(
      only('queues:\n  - name: jobs\n    arguments:\n      x-mesage-ttl: 5\n'),
      'courier.yaml:4:7: queues[0] (jobs).arguments: unknown argument "x-mesage-ttl" (did you mean "x-message-ttl"?)',
    );
    const result = parseTopology('queues:\n  - name: jobs\n    arguments: { x-custom-thing: 1 }\n', 'f.yaml');
    assert.ok(result.ok);
  });

  it('wrong types say what was expected and what was found', () => {
    assert.equal(only('queues:\n  - name: jobs\n    durable: yes please\n'), 'courier.yaml:3:14: queues[0] (jobs).durable must be true or false, got "yes please"');
    assert.equal(only('topics:\n  - name: 2024\n'), 'courier.yaml:2:11: topics[0].name must be a string, got number 2024 (quote it to make it a string)');
    assert.equal(only('topics: orders\n'), 'courier.yaml:1:9: topics must be a list (items starting with "- "), got "orders"');
    assert.equal(
      only('queues:\n  - name: jobs\n    arguments: { x-message-ttl: soon }\n'),
      'courier.yaml:3:33: queues[0] (jobs).arguments: invalid arg \'x-message-ttl\': expected an integer >= 0, got "soon"',
    );
  });

  it('a queue argument the broker would refuse is reported at the argument', () => {
    const message = only('queues:\n  - name: jobs\n    arguments:\n      x-overflow: drop-tail\n');
    assert.match(message, /^courier\.yaml:4:19: queues\[0\] \(jobs\)\.arguments: .*x-overflow/);
  });

  it('display names and descriptions follow the topic registry limits', () => {
    assert.equal(only('topics:\n  - name: a\n    displayName: "  "\n'), 'courier.yaml:3:18: topics[0] (a).displayName must be 1 to 200 characters, not only spaces');
    assert.match(only(`topics:\n  - name: a\n    description: ${'x'.repeat(2001)}\n`), /^courier\.yaml:3:18: topics\[0\] \(a\)\.description has 2001 characters; the limit is 2000$/);
  });

  it('missing names, bad names and duplicates are each reported', () => {
    assert.equal(only('topics:\n  - displayName: Orders\n'), 'courier.yaml:2:5: topics[0]: missing "name"');
    assert.match(only('topics:\n  - name: orders/created\n'), /^courier\.yaml:2:11: topics\[0\]\.name: topic name 'orders\/created' contains '\/'/);
    assert.match(only('exchanges:\n  - { name: amq.mine, type: topic }\n'), /^courier\.yaml:2:13: exchanges\[0\]\.name: .*reserved prefix 'amq\.'/);
    assert.equal(
      only('queues:\n  - name: jobs\n  - name: other\n  - name: jobs\n'),
      'courier.yaml:4:5: duplicate queue name "jobs" (first declared on line 2)',
    );
  });

  it('a service consuming or producing an undeclared topic is an error, with a suggestion', () => {
    const issues = issuesOf(
      ['topics:', '  - name: orders.created', 'services:', '  - name: billing', '    consumes: [orders.creatd]', '    produces: [invoices.sent]', ''].join('\n'),
    );
    assert.deepEqual(issues.map(formatIssue), [
      'courier.yaml:5:16: service "billing" consumes topic "orders.creatd", which is not declared under topics (did you mean "orders.created"?)',
      'courier.yaml:6:16: service "billing" produces topic "invoices.sent", which is not declared under topics',
    ]);
  });

  it('services take a display name and a description, checked by the registry rules', () => {
    const result = parseTopology('topics: [{ name: t }]\nservices:\n  - { name: web, displayName: Web shop, description: Sells things., produces: [t] }\n', 'courier.yaml');
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.document.services, [{ name: 'web', displayName: 'Web shop', description: 'Sells things.', produces: ['t'], consumes: [] }]);
    assert.match(only('services:\n  - { name: web, displayName: "  " }\n'), /^courier\.yaml:2:31: services\[0\] \(web\)\.displayName must be 1 to 200 characters/);
    assert.match(only(`services:\n  - { name: ${'w'.repeat(101)} }\n`), /services\[0\]\.name: service name has 101 characters; the limit is 100/);
  });

  it('service names are one level, since their queues are {service}.{topic}', () => {
    assert.match(only('services:\n  - name: billing.eu\n'), /^courier\.yaml:2:11: services\[0\]\.name "billing\.eu" must be one word/);
  });

  it('bindings must name declared exchanges and queues (service queues and amq.* count)', () => {
    const ok = parseTopology(
      'topics: [{ name: t }]\nservices: [{ name: s, consumes: [t] }]\nbindings:\n  - { source: amq.direct, destination: s.t, routingKey: x }\n',
      'f.yaml',
    );
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.deepEqual(issuesOf('queues: [{ name: jobs }]\nbindings:\n  - { source: work, destination: jobz }\n').map(formatIssue), [
      'courier.yaml:3:15: binding source exchange "work" is not declared under exchanges',
      'courier.yaml:3:34: binding destination queue "jobz" is not declared under queues (or as a service queue) (did you mean "jobs"?)',
    ]);
  });

  it('a topic keeping history may not share its name with a queue (its stream is a queue)', () => {
    assert.equal(
      only('topics: [{ name: events, retention: {} }]\nqueues: [{ name: events }]\n'),
      'courier.yaml:1:10: topic "events" keeps its history in a stream of that name, but a queue is also named "events"',
    );
  });

  it('collects every error in the file, in line order, not just the first', () => {
    const issues = issuesOf(
      [
        'topics:',
        '  - name: a',
        '    retention: { maxAge: 7 }',
        'exchanges:',
        '  - { name: e, type: topix }',
        'queues:',
        '  - { name: q, autoDelete: 1 }',
        'services:',
        '  - { name: s, consumes: [b] }',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      issues.map((issue) => issue.line),
      [3, 5, 7, 9],
    );
    assert.match(formatIssue(issues[0]!), /retention\.maxAge must be a duration with a unit/);
    assert.match(formatIssue(issues[1]!), /"topix" is not an exchange type \(did you mean "topic"\?\)/);
  });

  it('YAML syntax errors and duplicate keys are reported with their position', () => {
    const [syntax] = issuesOf('topics:\n  - name: a\n   bad: [\n');
    assert.ok(syntax);
    assert.match(formatIssue(syntax), /^courier\.yaml:\d+:\d+: YAML: /);
    assert.match(only('queues:\n  - name: a\n    name: b\n'), /^courier\.yaml:3:5: YAML: Map keys must be unique/);
  });
});
