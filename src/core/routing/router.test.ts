 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isBrokerError, type ErrorCode } from '../errors.js';
import type { HeaderTable } from '../message/message.js';
import type { BindingDestinationKind, BindingRecord, ExchangeRecord, ExchangeType } from '../ports.js';
import { BUILTIN_EXCHANGES, declareBuiltins, isBuiltinExchange } from './builtins.js';
import { RouteResult } from './route-result.js';
import { Router } from './router.js';

function exchange(name: string, type: ExchangeType, args: HeaderTable = {}): ExchangeRecord {
  return { name, type, durable: true, autoDelete: false, internal: false, arguments: args };
}

function binding(
  source: string,
  destination: string,
  routingKey = '',
  args: HeaderTable = {},
  destinationKind: BindingDestinationKind = 'queue',
): BindingRecord {
  return { source, destination, destinationKind, routingKey, arguments: args };
}

function e2e(source: string, destination: string, routingKey = '', args: HeaderTable = {}): BindingRecord {
  return binding(source, destination, routingKey, args, 'exchange');
}

function routeOf(router: Router, name: string, key = '', headers?: HeaderTable): { queues: string[]; streams: string[] } {
  const result = router.route(name, key, headers);
  return { queues: [...result.queues].sort(), streams: [...result.streams].sort() };
}

function queuesOf(router: Router, name: string, key = '', headers?: HeaderTable): string[] {
  return routeOf(router, name, key, headers).queues;
}

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => isBrokerError(error, code));
}

function routerWith(...exchanges: ExchangeRecord[]): Router {
  const router = new Router();
  for (const record of exchanges) router.addExchange(record);
  return router;
}

describe('Router exchanges', () => {
  it('declares the built-ins, durable, idempotently', () => {
    const router = new Router();
    declareBuiltins(router);
    declareBuiltins(router);
    const byName = new Map(router.listExchanges().map((record) => [record.name, record]));
    assert.deepEqual([...byName.keys()].sort(), ['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.topic']);
    assert.equal(byName.get('amq.topic')?.type, 'topic');
    assert.equal(byName.get('amq.match')?.type, 'headers');
    assert.equal(byName.get('')?.type, 'direct');
    assert.ok(BUILTIN_EXCHANGES.every((record) => record.durable && !record.autoDelete));
    assert.equal(isBuiltinExchange('amq.fanout'), true);
    assert.equal(isBuiltinExchange('amq.other'), false);
  });

  it('treats a redeclare as idempotent only when the settings are equivalent', () => {
    const router = routerWith(exchange('x', 'topic', { 'alternate-exchange': 'ae' }));
    assert.equal(router.addExchange(exchange('x', 'topic', { 'alternate-exchange': 'ae', other: 1 })), false);
    throwsCode(() => router.addExchange(exchange('x', 'direct', { 'alternate-exchange': 'ae' })), 'PRECONDITION_FAILED');
    throwsCode(() => router.addExchange(exchange('x', 'topic')), 'PRECONDITION_FAILED');
    throwsCode(() => router.addExchange({ ...exchange('x', 'topic', { 'alternate-exchange': 'ae' }), durable: false }), 'PRECONDITION_FAILED');
    assert.equal(router.getExchange('x')?.type, 'topic');
  });

  it('refuses unknown types and a non-string alternate-exchange', () => {
    const router = new Router();
    throwsCode(() => router.addExchange(exchange('x', 'x-consistent-hash' as ExchangeType)), 'INVALID_ARGUMENT');
    throwsCode(() => router.addExchange(exchange('x', 'direct', { 'alternate-exchange': 5 })), 'INVALID_ARGUMENT');
    assert.equal(router.hasExchange('x'), false);
  });

  it('removes an exchange with the bindings from it and to it', () => {
    const router = routerWith(exchange('a', 'fanout'), exchange('b', 'fanout'), exchange('c', 'fanout'));
    router.bind(e2e('a', 'b'));
    router.bind(binding('b', 'q1'));
    router.bind(e2e('b', 'c'));
    router.bind(binding('c', 'q2'));
    const removed = router.removeExchange('b');
    assert.equal(removed?.exchange.name, 'b');
    assert.deepEqual(removed?.bindings.map((record) => `${record.source}->${record.destination}`).sort(), ['a->b', 'b->c', 'b->q1']);
    assert.equal(router.getExchange('b'), undefined);
    assert.deepEqual(router.bindingsForSource('a'), []);
    assert.deepEqual(router.bindingsForDestination('exchange', 'b'), []);
    assert.equal(router.sourceBindingCount('a'), 0);
    assert.deepEqual(queuesOf(router, 'a'), []);
    assert.deepEqual(queuesOf(router, 'c'), ['q2']);
    assert.equal(router.removeExchange('b'), undefined);
  });

  it('refuses to remove the default exchange', () => {
    const router = new Router();
    declareBuiltins(router);
    throwsCode(() => router.removeExchange(''), 'ACCESS_REFUSED');
  });
});

describe('Router bindings', () => {
  it('binds and unbinds idempotently', () => {
    const router = routerWith(exchange('x', 'direct'));
    assert.equal(router.bind(binding('x', 'q', 'k')), true);
    assert.equal(router.bind(binding('x', 'q', 'k')), false);
    assert.equal(router.sourceBindingCount('x'), 1);
    assert.equal(router.unbind(binding('x', 'q', 'k')), true);
    assert.equal(router.unbind(binding('x', 'q', 'k')), false);
    assert.deepEqual(queuesOf(router, 'x', 'k'), []);
    assert.equal(router.unbind(binding('missing', 'q', 'k')), false);
  });

  it('identifies a binding by source, destination, kind, key and arguments (key order ignored)', () => {
    const router = routerWith(exchange('x', 'direct'));
    assert.equal(router.bind(binding('x', 'q', 'k', { a: 1, b: 2 })), true);
    assert.equal(router.bind(binding('x', 'q', 'k', { b: 2, a: 1 })), false);
    assert.equal(router.bind(binding('x', 'q', 'k', { a: 1 })), true);
    assert.equal(router.bind(binding('x', 'q', 'k2', { a: 1 })), true);
    assert.equal(router.bind(binding('x', 'q', 'k', { a: 1 }, 'stream')), true);
    assert.equal(router.bindingsForSource('x').length, 4);
    // Two bindings to q with key k: still one delivery to q, and removing one keeps the other.
    assert.deepEqual(routeOf(router, 'x', 'k'), { queues: ['q'], streams: ['q'] });
    assert.equal(router.unbind(binding('x', 'q', 'k', { b: 2, a: 1 })), true);
    assert.deepEqual(queuesOf(router, 'x', 'k'), ['q']);
    assert.equal(router.unbind(binding('x', 'q', 'k', { a: 1 })), true);
    assert.deepEqual(queuesOf(router, 'x', 'k'), []);
  });

  it('checks the source and destination exchanges and the default exchange', () => {
    const router = new Router();
    declareBuiltins(router);
    throwsCode(() => router.bind(binding('missing', 'q')), 'EXCHANGE_NOT_FOUND');
    throwsCode(() => router.bind(e2e('amq.direct', 'missing')), 'EXCHANGE_NOT_FOUND');
    throwsCode(() => router.bind(binding('', 'q', 'q')), 'ACCESS_REFUSED');
    throwsCode(() => router.bind(e2e('amq.direct', '')), 'ACCESS_REFUSED');
    throwsCode(() => router.unbind(binding('', 'q', 'q')), 'ACCESS_REFUSED');
    assert.deepEqual(router.listBindings(), []);
  });

  it('refuses a headers binding with an invalid x-match and keeps nothing of it', () => {
    const router = new Router();
    declareBuiltins(router);
    throwsCode(() => router.bind(binding('amq.headers', 'q', '', { 'x-match': 'some' })), 'INVALID_ARGUMENT');
    assert.deepEqual(router.listBindings(), []);
    // Other exchange types do not interpret x-match.
    assert.equal(router.bind(binding('amq.direct', 'q', 'k', { 'x-match': 'some' })), true);
  });

  it('lists by source and by destination and removes per destination or source', () => {
    const router = routerWith(exchange('a', 'topic'), exchange('b', 'direct'), exchange('c', 'fanout'));
    router.bind(binding('a', 'q1', 'x.#'));
    router.bind(binding('a', 'q1', 'y.*'));
    router.bind(binding('b', 'q1', 'k'));
    router.bind(binding('b', 'q2', 'k'));
    router.bind(binding('c', 's1', '', {}, 'stream'));
    router.bind(binding('c', 'q1', '', {}, 'stream'));
    router.bind(e2e('a', 'c', 'x.#'));
    assert.equal(router.listBindings().length, 7);
    assert.deepEqual(router.bindingsForSource('a').map((record) => record.routingKey).sort(), ['x.#', 'x.#', 'y.*']);
    assert.deepEqual(router.bindingsForDestination('queue', 'q1').map((record) => record.source).sort(), ['a', 'a', 'b']);
    assert.deepEqual(router.bindingsForDestination('stream', 'q1').map((record) => record.source), ['c']);
    assert.deepEqual(router.bindingsForDestination('exchange', 'c').map((record) => record.source), ['a']);

    const removed = router.removeBindingsForDestination('queue', 'q1');
    assert.equal(removed.length, 3);
    assert.deepEqual(router.bindingsForDestination('queue', 'q1'), []);
    assert.equal(router.sourceBindingCount('a'), 1);
    assert.deepEqual(routeOf(router, 'a', 'x.y'), { queues: [], streams: ['q1', 's1'] });
    assert.deepEqual(queuesOf(router, 'b', 'k'), ['q2']);
    assert.deepEqual(router.removeBindingsForDestination('queue', 'q1'), []);

    assert.equal(router.removeBindingsForSource('c').length, 2);
    assert.deepEqual(routeOf(router, 'a', 'x.y'), { queues: [], streams: [] });
    assert.equal(router.listBindings().length, 2);
  });
});

describe('Router routing by exchange type', () => {
  it('routes the default exchange by queue name without bindings', () => {
    const router = new Router();
    declareBuiltins(router);
    assert.deepEqual(queuesOf(router, '', 'orders'), ['orders']);
    // Even when the built-ins were not declared: the default exchange always exists.
    assert.deepEqual(queuesOf(new Router(), '', 'x'), ['x']);
  });

  it('refuses to route to a missing exchange', () => {
    throwsCode(() => new Router().route('nope', 'k', undefined), 'EXCHANGE_NOT_FOUND');
  });

  it('direct: exact routing key, each queue once', () => {
    const router = routerWith(exchange('d', 'direct'));
    router.bind(binding('d', 'q1', 'red'));
    router.bind(binding('d', 'q2', 'red'));
    router.bind(binding('d', 'q2', 'green'));
    router.bind(binding('d', 'q3', ''));
    assert.deepEqual(queuesOf(router, 'd', 'red'), ['q1', 'q2']);
    assert.deepEqual(queuesOf(router, 'd', 'green'), ['q2']);
    assert.deepEqual(queuesOf(router, 'd', 'red.x'), []);
    assert.deepEqual(queuesOf(router, 'd', ''), ['q3']);
  });

  it('fanout: every binding, whatever the key', () => {
    const router = routerWith(exchange('f', 'fanout'));
    router.bind(binding('f', 'q1', 'ignored'));
    router.bind(binding('f', 'q2'));
    router.bind(binding('f', 's1', '', {}, 'stream'));
    assert.deepEqual(routeOf(router, 'f', 'anything'), { queues: ['q1', 'q2'], streams: ['s1'] });
  });

  it('topic: wildcards, one delivery per queue bound with several patterns', () => {
    const router = routerWith(exchange('t', 'topic'));
    router.bind(binding('t', 'all', '#'));
    router.bind(binding('t', 'eu', 'eu.#'));
    router.bind(binding('t', 'eu', '*.orders.*'));
    router.bind(binding('t', 'eu', 'eu.orders.created'));
    router.bind(binding('t', 'created', '*.*.created'));
    router.bind(binding('t', 'empty', ''));
    assert.deepEqual(queuesOf(router, 't', 'eu.orders.created'), ['all', 'created', 'eu']);
    assert.deepEqual(queuesOf(router, 't', 'us.orders.created'), ['all', 'created', 'eu']);
    assert.deepEqual(queuesOf(router, 't', 'eu'), ['all', 'eu']);
    assert.deepEqual(queuesOf(router, 't', 'us'), ['all']);
    assert.deepEqual(queuesOf(router, 't', ''), ['all', 'empty']);
  });

  it('headers: all / any with the routing key ignored', () => {
    const router = routerWith(exchange('h', 'headers'));
    router.bind(binding('h', 'pdf-report', 'ignored', { 'x-match': 'all', format: 'pdf', type: 'report' }));
    router.bind(binding('h', 'pdf-or-log', '', { 'x-match': 'any', format: 'pdf', type: 'log' }));
    router.bind(binding('h', 'has-trace', '', { trace: null }));
    router.bind(binding('h', 'tenant', '', { 'x-match': 'all-with-x', 'x-tenant': 't1' }));
    assert.deepEqual(queuesOf(router, 'h', 'k', { format: 'pdf', type: 'report' }), ['pdf-or-log', 'pdf-report']);
    assert.deepEqual(queuesOf(router, 'h', 'k', { type: 'log', trace: 'abc' }), ['has-trace', 'pdf-or-log']);
    assert.deepEqual(queuesOf(router, 'h', 'k', { 'x-tenant': 't1' }), ['tenant']);
    assert.deepEqual(queuesOf(router, 'h', 'k', undefined), []);
  });
});

describe('Router exchange-to-exchange and alternate exchanges', () => {
  it('follows exchange bindings with the same key and reports each destination once', () => {
    const router = routerWith(exchange('in', 'topic'), exchange('fan', 'fanout'), exchange('dir', 'direct'));
    router.bind(e2e('in', 'fan', 'orders.#'));
    router.bind(e2e('in', 'dir', '#'));
    router.bind(binding('in', 'q1', 'orders.*'));
    router.bind(binding('fan', 'q1'));
    router.bind(binding('fan', 'q2'));
    router.bind(binding('dir', 'q3', 'orders.new'));
    router.bind(binding('dir', 's', 'orders.new', {}, 'stream'));
    assert.deepEqual(routeOf(router, 'in', 'orders.new'), { queues: ['q1', 'q2', 'q3'], streams: ['s'] });
    assert.deepEqual(routeOf(router, 'in', 'orders.old.x'), { queues: ['q1', 'q2'], streams: [] });
    assert.deepEqual(routeOf(router, 'in', 'users.new'), { queues: [], streams: [] });
  });

  it('ends on cycles, including an exchange bound to itself', () => {
    const router = routerWith(exchange('a', 'fanout'), exchange('b', 'fanout'), exchange('c', 'topic'));
    router.bind(e2e('a', 'b'));
    router.bind(e2e('b', 'a'));
    router.bind(e2e('b', 'c'));
    router.bind(e2e('c', 'c', '#'));
    router.bind(e2e('c', 'a', '#'));
    router.bind(binding('a', 'qa'));
    router.bind(binding('c', 'qc', 'k'));
    assert.deepEqual(queuesOf(router, 'a', 'k'), ['qa', 'qc']);
    assert.deepEqual(queuesOf(router, 'c', 'k'), ['qa', 'qc']);
    assert.deepEqual(queuesOf(router, 'b', 'other'), ['qa']);
  });

  it('uses the alternate exchange only when the exchange routed nowhere', () => {
    const router = routerWith(exchange('ae', 'fanout'), exchange('x', 'direct', { 'alternate-exchange': 'ae' }));
    router.bind(binding('ae', 'unrouted'));
    router.bind(binding('x', 'q', 'k'));
    assert.deepEqual(queuesOf(router, 'x', 'k'), ['q']);
    assert.deepEqual(queuesOf(router, 'x', 'other'), ['unrouted']);
  });

  it('applies the AE per exchange: a hop that routed to an exchange counts as routed', () => {
    const router = routerWith(
      exchange('ae1', 'fanout'),
      exchange('ae2', 'fanout'),
      exchange('x', 'topic', { 'alternate-exchange': 'ae1' }),
      exchange('y', 'direct', { 'alternate-exchange': 'ae2' }),
      exchange('z', 'direct'),
    );
    router.bind(binding('ae1', 'from-ae1'));
    router.bind(binding('ae2', 'from-ae2'));
    router.bind(e2e('x', 'y', 'a.#'));
    router.bind(e2e('x', 'z', 'b.#'));
    // x routes to y, y routes nowhere: y's AE is used, not x's.
    assert.deepEqual(queuesOf(router, 'x', 'a.1'), ['from-ae2']);
    // x routes to z (which has no AE) and z routes nowhere: nothing, x's AE is not consulted.
    assert.deepEqual(queuesOf(router, 'x', 'b.1'), []);
    assert.deepEqual(queuesOf(router, 'x', 'c.1'), ['from-ae1']);
    // A binding to an exchange already visited also counts as routed.
    router.bind(e2e('x', 'x', 'self.#'));
    assert.deepEqual(queuesOf(router, 'x', 'self.1'), []);
  });

  it('follows AE chains, stops on AE cycles and skips missing AEs', () => {
    const router = routerWith(
      exchange('x', 'direct', { 'alternate-exchange': 'y' }),
      exchange('y', 'direct', { 'alternate-exchange': 'z' }),
      exchange('z', 'fanout'),
      exchange('loop1', 'direct', { 'alternate-exchange': 'loop2' }),
      exchange('loop2', 'direct', { 'alternate-exchange': 'loop1' }),
      exchange('dangling', 'direct', { 'alternate-exchange': 'missing' }),
    );
    router.bind(binding('y', 'qy', 'k'));
    router.bind(binding('z', 'qz'));
    assert.deepEqual(queuesOf(router, 'x', 'k'), ['qy']);
    assert.deepEqual(queuesOf(router, 'x', 'j'), ['qz']);
    assert.deepEqual(queuesOf(router, 'loop1', 'k'), []);
    router.bind(binding('loop2', 'ql', 'k'));
    assert.deepEqual(queuesOf(router, 'loop1', 'k'), ['ql']);
    assert.deepEqual(queuesOf(router, 'dangling', 'k'), []);
  });

  it('can use the default exchange as AE, with one delivery per queue', () => {
    const router = routerWith(exchange('x', 'direct', { 'alternate-exchange': '' }), exchange('f', 'fanout'));
    assert.deepEqual(queuesOf(router, 'x', 'orders'), ['orders']);
    // f routes to orders explicitly and to t2, whose AE names orders again through the default exchange.
    router.addExchange(exchange('t2', 'topic', { 'alternate-exchange': '' }));
    router.bind(binding('f', 'orders'));
    router.bind(e2e('f', 't2'));
    assert.deepEqual(queuesOf(router, 'f', 'orders'), ['orders']);
  });

  it('fills and returns the caller result, cleared on each route', () => {
    const router = routerWith(exchange('f', 'fanout'), exchange('d', 'direct'));
    router.bind(binding('f', 'q1'));
    router.bind(binding('f', 'q2'));
    const result = new RouteResult();
    assert.equal(router.route('f', '', undefined, result), result);
    assert.deepEqual([...result.queues].sort(), ['q1', 'q2']);
    assert.equal(result.isEmpty, false);
    router.route('d', 'k', undefined, result);
    assert.equal(result.isEmpty, true);
    router.route('f', '', undefined, result);
    assert.equal(result.queues.length, 2, 'routing the same message again reports the queues again');
  });
});

// -----------------------------------------------------------------------------------------------------
// Property: the router equals a naive transcription of RabbitMQ's algorithm on random topologies.

interface ModelExchange {
  name: string;
  type: ExchangeType;
  alternate: string | undefined;
}

function referenceTopic(pattern: string, key: string): boolean {
  const p = pattern === '' ? [] : pattern.split('.');
  const k = key === '' ? [] : key.split('.');
  const go = (i: number, j: number): boolean =>
    i === p.length ? j === k.length : p[i] === '#' ? go(i + 1, j) || (j < k.length && go(i, j + 1)) : j < k.length && (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
  return go(0, 0);
}

function referenceHeaders(args: HeaderTable, headers: HeaderTable): boolean {
  const any = args['x-match'] === 'any';
  const names = Object.keys(args).filter((name) => !name.startsWith('x-'));
  const one = (name: string): boolean => name in headers && (args[name] === null || args[name] === headers[name]);
  return any ? names.some(one) : names.every(one);
}

function referenceRoute(
  exchanges: Map<string, ModelExchange>,
  bindings: BindingRecord[],
  start: string,
  key: string,
  headers: HeaderTable,
): { queues: string[]; streams: string[] } {
  const queues = new Set<string>();
  const streams = new Set<string>();
  const seen = new Set([start]);
  const work = [start];
  while (work.length > 0) {
    const name = work.shift()!;
    if (name === '') {
      queues.add(key);
      continue;
    }
    const ex = exchanges.get(name);
    if (ex === undefined) continue;
    const matched = bindings.filter((b) => {
      if (b.source !== name) return false;
      switch (ex.type) {
        case 'direct':
          return b.routingKey === key;
        case 'fanout':
          return true;
        case 'topic':
          return referenceTopic(b.routingKey, key);
        case 'headers':
          return referenceHeaders(b.arguments, headers);
      }
    });
    const destinations: { kind: BindingDestinationKind; name: string }[] = matched.map((b) => ({ kind: b.destinationKind, name: b.destination }));
    if (destinations.length === 0 && ex.alternate !== undefined) destinations.push({ kind: 'exchange', name: ex.alternate });
    for (const d of destinations) {
      if (d.kind === 'queue') queues.add(d.name);
      else if (d.kind === 'stream') streams.add(d.name);
      else if (!seen.has(d.name)) {
        seen.add(d.name);
        work.push(d.name);
      }
    }
  }
  return { queues: [...queues].sort(), streams: [...streams].sort() };
}

describe('Router against a naive reference', () => {
  const names = ['e0', 'e1', 'e2', 'e3', 'e4'];
  const keys = ['a', 'b', 'a.b', 'a.a', '', 'b.a.b'];
  const patterns = ['a', 'b', '*', '#', 'a.#', '*.b', '#.b', '', 'a.*'];
  const headerArgs: HeaderTable[] = [{}, { h: 1 }, { 'x-match': 'any', h: 1, g: 2 }, { g: null }, { h: 2, g: 2 }];

  const exchangeSpec = fc.record({
    type: fc.constantFrom<ExchangeType>('direct', 'fanout', 'topic', 'headers'),
    alternate: fc.option(fc.constantFrom(...names, '', 'missing'), { nil: undefined }),
  });
  const operation = fc.oneof(
    fc.record({
      op: fc.constantFrom('bind', 'bind', 'bind', 'unbind'),
      source: fc.constantFrom(...names),
      kind: fc.constantFrom<BindingDestinationKind>('queue', 'queue', 'exchange', 'stream'),
      queue: fc.constantFrom('q0', 'q1', 'q2', 'a', 'b'),
      exchange: fc.constantFrom(...names),
      pattern: fc.constantFrom(...patterns),
      args: fc.constantFrom(...headerArgs),
    }),
    fc.record({ op: fc.constant('drop-queue' as const), queue: fc.constantFrom('q0', 'q1', 'a') }),
    fc.record({ op: fc.constant('drop-exchange' as const), exchange: fc.constantFrom(...names.slice(1)) }),
  );
  const message = fc.record({
    exchange: fc.constantFrom(...names, ''),
    key: fc.constantFrom(...keys),
    headers: fc.constantFrom<HeaderTable>({}, { h: 1 }, { g: 2 }, { h: 2, g: 2 }, { g: 'x', h: 1 }),
  });

  it('routes every message to the same queues and streams', () => {
    fc.assert(
      fc.property(fc.array(exchangeSpec, { minLength: 5, maxLength: 5 }), fc.array(operation, { maxLength: 40 }), fc.array(message, { minLength: 1, maxLength: 15 }), (specs, operations, messages) => {
        const router = new Router();
        const model = new Map<string, ModelExchange>();
        let bindings: BindingRecord[] = [];
        specs.forEach((spec, index) => {
          const name = names[index]!;
          const args: HeaderTable = spec.alternate === undefined ? {} : { 'alternate-exchange': spec.alternate };
          router.addExchange(exchange(name, spec.type, args));
          model.set(name, { name, type: spec.type, alternate: spec.alternate });
        });
        const same = (a: BindingRecord, b: BindingRecord): boolean =>
          a.source === b.source && a.destination === b.destination && a.destinationKind === b.destinationKind && a.routingKey === b.routingKey && JSON.stringify(a.arguments) === JSON.stringify(b.arguments);
        for (const op of operations) {
          if (op.op === 'drop-queue') {
            const removed = router.removeBindingsForDestination('queue', op.queue);
            const expected = bindings.filter((b) => b.destinationKind === 'queue' && b.destination === op.queue);
            assert.equal(removed.length, expected.length);
            bindings = bindings.filter((b) => !(b.destinationKind === 'queue' && b.destination === op.queue));
          } else if (op.op === 'drop-exchange') {
            const removed = router.removeExchange(op.exchange);
            assert.equal(removed !== undefined, model.has(op.exchange));
            model.delete(op.exchange);
            bindings = bindings.filter((b) => b.source !== op.exchange && !(b.destinationKind === 'exchange' && b.destination === op.exchange));
          } else {
            const destination = op.kind === 'exchange' ? op.exchange : op.queue;
            const record = binding(op.source, destination, op.pattern, op.args, op.kind);
            const usable = model.has(op.source) && (op.kind !== 'exchange' || model.has(destination));
            const exists = bindings.some((b) => same(b, record));
            if (op.op === 'bind') {
              if (!usable) {
                throwsCode(() => router.bind(record), 'EXCHANGE_NOT_FOUND');
                continue;
              }
              assert.equal(router.bind(record), !exists);
              if (!exists) bindings.push(record);
            } else {
              assert.equal(router.unbind(record), exists);
              bindings = bindings.filter((b) => !same(b, record));
            }
          }
        }
        assert.equal(router.listBindings().length, bindings.length);
        const result = new RouteResult();
        for (const m of messages) {
          if (m.exchange !== '' && !model.has(m.exchange)) {
            throwsCode(() => router.route(m.exchange, m.key, m.headers, result), 'EXCHANGE_NOT_FOUND');
            continue;
          }
          router.route(m.exchange, m.key, m.headers, result);
          const actual = { queues: [...result.queues].sort(), streams: [...result.streams].sort() };
          assert.deepEqual(actual, referenceRoute(model, bindings, m.exchange, m.key, m.headers), JSON.stringify(m));
        }
      }),
      { numRuns: 400 },
    );
  });
});
