/**
 * The web console's pure logic, run in Node: the rolling rate window, chart scales, topology and
 * dead-letter derivation, problem messages, hash routes and body previews (console/src/*.ts, which the
 * browser build compiles too).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linePath, niceMax, ticks } from '../../console/src/chart-geometry.js';
import { deadLetterQueues, deathsOf, describeDeath, reasonCounts } from '../../console/src/dead-letters.js';
import { formatDuration, previewBody } from '../../console/src/format.js';
import { describeProblem, problemOf } from '../../console/src/problem.js';
import { RateSeries } from '../../console/src/rate-series.js';
import { hrefOf, parseRoute } from '../../console/src/routes.js';
import { deriveTopology, layoutTopology, serviceOfQueue } from '../../console/src/topology.js';

describe('console: RateSeries', () => {
  it('turns running totals into rates per second; the first sample is only a baseline', () => {
    const series = new RateSeries(60_000);
    assert.equal(series.add({ at: 1000, published: 10, delivered: 0 }), undefined);
    assert.deepEqual(series.add({ at: 3000, published: 30, delivered: 4 }), { at: 3000, publish: 10, deliver: 2 });
    assert.deepEqual(series.add({ at: 4000, published: 30, delivered: 4 }), { at: 4000, publish: 0, deliver: 0 });
    assert.equal(series.points().length, 2);
    assert.deepEqual(series.latest(), { at: 4000, publish: 0, deliver: 0 });
  });

  it('keeps only the window, measured back from the newest point', () => {
    const series = new RateSeries(10_000);
    for (let second = 0; second <= 30; second++) series.add({ at: second * 1000, published: second * 5, delivered: second });
    const points = series.points();
    assert.equal(points[0]?.at, 20_000);
    assert.equal(points[points.length - 1]?.at, 30_000);
    assert.ok(points.every((point) => point.publish === 5 && point.deliver === 1));
  });

  it('restarts from a new baseline when the totals go down (a broker restart), and ignores stale samples', () => {
    const series = new RateSeries(60_000);
    series.add({ at: 0, published: 100, delivered: 100 });
    series.add({ at: 1000, published: 110, delivered: 105 });
    assert.equal(series.add({ at: 2000, published: 3, delivered: 0 }), undefined, 'no negative rate');
    assert.equal(series.add({ at: 2000, published: 9, delivered: 9 }), undefined, 'same instant: ignored');
    assert.deepEqual(series.add({ at: 4000, published: 7, delivered: 2 }), { at: 4000, publish: 2, deliver: 1 });
    assert.ok(series.points().every((point) => point.publish >= 0 && point.deliver >= 0));
  });

  it('refuses a window that is not positive', () => {
    assert.throws(() => new RateSeries(0), RangeError);
  });
});

describe('console: chart geometry', () => {
  it('rounds an axis top up to 1, 2 or 5 times a power of ten', () => {
    assert.equal(niceMax(0), 1);
    assert.equal(niceMax(-3), 1);
    assert.equal(niceMax(0.3), 0.5);
    assert.equal(niceMax(1), 1);
    assert.equal(niceMax(1.1), 2);
    assert.equal(niceMax(3), 5);
    assert.equal(niceMax(7), 10);
    assert.equal(niceMax(120), 200);
    assert.equal(niceMax(Number.POSITIVE_INFINITY), 1);
    assert.deepEqual(ticks(5, 4), [0, 1.25, 2.5, 3.75, 5]);
    assert.deepEqual(ticks(5), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(ticks(2), [0, 0.5, 1, 1.5, 2]);
    assert.deepEqual(ticks(0.1), [0, 0.02, 0.04, 0.06, 0.08, 0.1]);
  });

  it('maps points into the plot area with y growing downwards, clamped to the domain', () => {
    const area = { left: 10, top: 0, width: 100, height: 50 };
    const path = linePath(
      [
        { x: 0, y: 0 },
        { x: 5, y: 10 },
        { x: 10, y: 99 },
      ],
      area,
      { xMin: 0, xMax: 10, yMax: 10 },
    );
    assert.equal(path, 'M10 50 L60 0 L110 0');
    assert.equal(linePath([], area, { xMin: 0, xMax: 1, yMax: 1 }), '');
  });
});

describe('console: topology derivation', () => {
  const topics = [
    { name: 'orders.created', displayName: 'Order created' },
    { name: 'orders.shipped', displayName: '' },
  ];
  const queues = [
    { name: 'billing.orders.created', messagesReady: 3, consumers: 1 },
    { name: 'shipping.orders.created', messagesReady: 0, consumers: 2 },
    { name: 'shipping.payments.settled', messagesReady: 1, consumers: 0 },
    { name: 'a.b.orders.created' },
    { name: 'jobs.pdf' },
    { name: 'wild.orders.*' },
  ];
  const bindings = [
    { source: 'amq.topic', destination: 'billing.orders.created', destinationKind: 'queue', routingKey: 'orders.created' },
    { source: 'amq.topic', destination: 'shipping.orders.created', destinationKind: 'queue', routingKey: 'orders.created' },
    { source: 'amq.topic', destination: 'shipping.payments.settled', destinationKind: 'queue', routingKey: 'payments.settled' },
    // Not the naming rule: a dotted "service", another exchange, a wildcard, a name that does not match.
    { source: 'amq.topic', destination: 'a.b.orders.created', destinationKind: 'queue', routingKey: 'orders.created' },
    { source: 'jobs', destination: 'jobs.pdf', destinationKind: 'queue', routingKey: 'pdf' },
    { source: 'amq.topic', destination: 'wild.orders.*', destinationKind: 'queue', routingKey: 'orders.*' },
    { source: 'amq.topic', destination: 'billing.orders.created', destinationKind: 'queue', routingKey: 'orders.shipped' },
  ];

  it('reads {service}.{topic} queues bound to amq.topic as subscriptions', () => {
    const topology = deriveTopology(topics, queues, bindings);
    assert.deepEqual(
      topology.subscriptions.map((entry) => `${entry.service} <- ${entry.topic} via ${entry.queue} (${entry.messagesReady}, ${entry.consumers}, ${entry.queueExists}, ${entry.declared})`),
      [
        'billing <- orders.created via billing.orders.created (3, 1, true, false)',
        'shipping <- orders.created via shipping.orders.created (0, 2, true, false)',
        'shipping <- payments.settled via shipping.payments.settled (1, 0, true, false)',
      ],
    );
    assert.deepEqual(
      topology.services.map((service) => [service.name, service.consumes.map((entry) => entry.topic)]),
      [
        ['billing', ['orders.created']],
        ['shipping', ['orders.created', 'payments.settled']],
      ],
    );
    assert.equal(topology.otherBindings.length, 4);
  });

  it('lists every topic with its consumers, and routing keys consumed without a topic record as undeclared', () => {
    const topology = deriveTopology(topics, queues, bindings);
    assert.deepEqual(
      topology.topics.map((topic) => [topic.name, topic.displayName, topic.declared, topic.consumers]),
      [
        ['orders.created', 'Order created', true, ['billing', 'shipping']],
        ['orders.shipped', 'orders.shipped', true, []],
        ['payments.settled', 'payments.settled', false, ['shipping']],
      ],
    );
  });

  const services = [
    { name: 'checkout', displayName: 'Checkout', produces: ['orders.created'], consumes: [] },
    { name: 'billing', displayName: 'billing', produces: ['payments.settled'], consumes: ['orders.created'] },
    // Declared, but apply has not made its queue yet.
    { name: 'mailer', displayName: 'mailer', produces: [], consumes: ['orders.shipped'] },
  ];

  it('adds producers and declared consumers from the service records, and keeps queue-only consumers', () => {
    const topology = deriveTopology(topics, queues, bindings, services);
    assert.deepEqual(
      topology.productions.map((entry) => `${entry.service} -> ${entry.topic}`),
      ['billing -> payments.settled', 'checkout -> orders.created'],
    );
    assert.deepEqual(
      topology.topics.map((topic) => [topic.name, topic.producers, topic.consumers]),
      [
        ['orders.created', ['checkout'], ['billing', 'shipping']],
        ['orders.shipped', [], ['mailer']],
        ['payments.settled', ['billing'], ['shipping']],
      ],
    );
    assert.deepEqual(
      topology.services.map((service) => [service.name, service.displayName, service.declared, service.produces.length, service.consumes.map((entry) => entry.topic)]),
      [
        ['billing', 'billing', true, 1, ['orders.created']],
        ['checkout', 'Checkout', true, 1, []],
        ['mailer', 'mailer', true, 0, ['orders.shipped']],
        ['shipping', 'shipping', false, 0, ['orders.created', 'payments.settled']],
      ],
    );
    const mailer = topology.subscriptions.find((entry) => entry.service === 'mailer');
    assert.deepEqual(mailer, { service: 'mailer', topic: 'orders.shipped', queue: 'mailer.orders.shipped', queueExists: false, declared: true, messagesReady: 0, consumers: 0 });
    assert.equal(topology.subscriptions.find((entry) => entry.service === 'billing')?.declared, true);
  });

  it('lays producers out left, topics in the middle and consumers right, one edge per production and subscription', () => {
    const layout = layoutTopology(deriveTopology(topics, queues, bindings, services));
    const producers = layout.nodes.filter((node) => node.role === 'producer');
    const topicNodes = layout.nodes.filter((node) => node.kind === 'topic');
    const consumers = layout.nodes.filter((node) => node.role === 'consumer');
    assert.deepEqual(
      producers.map((node) => node.label),
      ['billing', 'checkout'],
    );
    assert.deepEqual(
      consumers.map((node) => node.label),
      ['billing', 'mailer', 'shipping'],
    );
    const right = (nodes: typeof producers): number => Math.max(...nodes.map((node) => node.x + layout.nodeWidth));
    const left = (nodes: typeof producers): number => Math.min(...nodes.map((node) => node.x));
    assert.ok(right(producers) < left(topicNodes) && right(topicNodes) < left(consumers), 'three columns, left to right');
    assert.deepEqual(
      layout.edges.map((edge) => `${edge.kind} ${edge.from.id} -> ${edge.to.id}`),
      [
        'produces producer:billing -> topic:payments.settled',
        'produces producer:checkout -> topic:orders.created',
        'consumes topic:orders.created -> consumer:billing',
        'consumes topic:orders.shipped -> consumer:mailer',
        'consumes topic:orders.created -> consumer:shipping',
        'consumes topic:payments.settled -> consumer:shipping',
      ],
    );
  });

  it('applies the naming rule exactly', () => {
    assert.equal(serviceOfQueue('billing.orders.created', 'orders.created'), 'billing');
    assert.equal(serviceOfQueue('bill-ing_2.x', 'x'), 'bill-ing_2');
    assert.equal(serviceOfQueue('a.b.orders.created', 'orders.created'), undefined);
    assert.equal(serviceOfQueue('orders.created', 'orders.created'), undefined);
    assert.equal(serviceOfQueue('x.orders.#', 'orders.#'), undefined);
    assert.equal(serviceOfQueue('x.', ''), undefined);
  });

  it('without service records: topics, consuming services on the right, one edge per subscription', () => {
    const layout = layoutTopology(deriveTopology(topics, queues, bindings));
    const topicNodes = layout.nodes.filter((node) => node.kind === 'topic');
    const serviceNodes = layout.nodes.filter((node) => node.kind === 'service');
    assert.equal(topicNodes.length, 3);
    assert.equal(serviceNodes.length, 2);
    assert.ok(serviceNodes.every((node) => node.role === 'consumer'), 'without service records there are no producers');
    assert.ok(topicNodes.every((node) => node.x < (serviceNodes[0]?.x ?? 0)));
    assert.ok(serviceNodes.every((node) => node.x + layout.nodeWidth <= layout.width));
    assert.equal(layout.edges.length, 3);
    const ys = topicNodes.map((node) => node.y);
    assert.deepEqual(ys, [...ys].sort((a, b) => a - b), 'rows in order');
    assert.ok(layout.nodes.every((node) => node.y >= 0 && node.y + layout.nodeHeight <= layout.height));
  });
});

describe('console: dead letters', () => {
  it('finds dead-letter queues from arguments, dead-letter exchange bindings and names', () => {
    const queues = [
      { name: 'work', arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work.failed' } },
      { name: 'work.failed', arguments: {} },
      { name: 'jobs', arguments: { 'x-dead-letter-exchange': 'dlx' } },
      { name: 'parked', arguments: {} },
      { name: 'orders.dlq', arguments: {} },
      { name: 'dead-letters', arguments: {} },
      { name: 'plain', arguments: { 'x-dead-letter-exchange': '' } },
      { name: 'history.dlq', type: 'stream', arguments: {} },
      { name: 'deadline', arguments: {} },
    ];
    const bindings = [
      { source: 'dlx', destination: 'parked', destinationKind: 'queue' },
      { source: 'dlx', destination: 'other-exchange', destinationKind: 'exchange' },
      { source: 'amq.topic', destination: 'plain', destinationKind: 'queue' },
    ];
    assert.deepEqual(deadLetterQueues(queues, bindings), ['dead-letters', 'orders.dlq', 'parked', 'work.failed']);
  });

  it('reads x-death entries and explains them', () => {
    const headers = {
      'x-death': [
        { count: 2, reason: 'rejected', queue: 'work', time: 1_700_000_000, exchange: '', 'routing-keys': ['work'] },
        { count: 1, reason: 'expired', queue: 'delay', time: '1699999999', exchange: 'timers', 'routing-keys': ['t.1'] },
        'garbage',
      ],
    };
    const deaths = deathsOf(headers);
    assert.equal(deaths.length, 2);
    assert.deepEqual(deaths[0], {
      queue: 'work',
      reason: 'rejected',
      count: 2,
      exchange: '',
      routingKeys: ['work'],
      time: new Date(1_700_000_000_000),
    });
    const [latest, older] = deaths;
    assert.ok(latest && older);
    assert.equal(older.time?.getTime(), 1_699_999_999_000);
    assert.equal(
      describeDeath(latest),
      'rejected by a consumer (nack / reject without requeue) in queue work (2 times); came from the default exchange with routing key work',
    );
    assert.match(describeDeath(older), /^expired .* in queue delay; came from exchange timers with routing key t\.1$/);
    assert.deepEqual(deathsOf({}), []);
    assert.deepEqual(deathsOf(undefined), []);
  });

  it('counts the latest reason of each message, most frequent first', () => {
    const death = (reason: string): Record<string, unknown> => ({ 'x-death': [{ reason, queue: 'q', count: 1 }] });
    assert.deepEqual(reasonCounts([{ headers: death('expired') }, { headers: death('rejected') }, { headers: death('rejected') }, { headers: {} }]), [
      ['rejected', 2],
      ['expired', 1],
      ['no x-death header', 1],
    ]);
  });
});

describe('console: problems, routes and formatting', () => {
  it('makes a readable sentence of problem details, and of a body that is not one', () => {
    const problem = problemOf(400, 'Bad Request', {
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: "topic name 'a b' contains a space",
      code: 'INVALID_NAME',
    });
    assert.equal(describeProblem(problem), "Bad Request (INVALID_NAME): topic name 'a b' contains a space");
    assert.equal(describeProblem(problemOf(502, 'Bad Gateway', undefined)), 'Bad Gateway, HTTP 502');
    assert.equal(describeProblem(problemOf(500, '', 'not json')), 'Error, HTTP 500');
  });

  it('parses hash routes and builds links back to them', () => {
    assert.deepEqual(parseRoute(''), { page: 'overview' });
    assert.deepEqual(parseRoute('#/'), { page: 'overview' });
    assert.deepEqual(parseRoute('#/topics'), { page: 'topics' });
    assert.deepEqual(parseRoute('#/queues/a%2Fb%20c'), { page: 'queues', argument: 'a/b c' });
    assert.deepEqual(parseRoute(hrefOf('queues', 'billing.orders.created')), { page: 'queues', argument: 'billing.orders.created' });
    assert.deepEqual(parseRoute('#/nope'), { page: 'not-found' });
    assert.deepEqual(parseRoute('#/queues/%E0%A4%A'), { page: 'not-found' });
  });

  it('previews bodies as text, pretty JSON or a byte count', () => {
    const base64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');
    assert.equal(previewBody(base64('{"a":1}'), 'application/json').text, '{\n  "a": 1\n}');
    assert.equal(previewBody(base64('{"a":'), 'application/json').text, '{"a":', 'broken JSON shown as is');
    const binary = previewBody(base64(Buffer.from([0xff, 0xfe, 0x00])), undefined);
    assert.equal(binary.isText, false);
    assert.equal(binary.text, 'binary, 3 bytes');
    const long = previewBody(base64('x'.repeat(50)), 'text/plain', 10);
    assert.equal(long.truncated, true);
    assert.equal(long.text, `${'x'.repeat(10)}…`);
    assert.equal(long.bytes, 50);
  });

  it('formats durations with two units at most', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(65), '1m 5s');
    assert.equal(formatDuration(3600), '1h');
    assert.equal(formatDuration(30 * 86_400), '30d');
    assert.equal(formatDuration(90_061), '1d 1h');
  });
});
