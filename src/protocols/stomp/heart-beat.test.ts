import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { HeartBeatTimers, negotiateHeartBeat, parseHeartBeat } from './heart-beat.js';

describe('STOMP heart-beat negotiation', () => {
  it('parses the header, absent meaning none', () => {
    assert.deepEqual(parseHeartBeat(undefined), { clientSendsMs: 0, clientWantsMs: 0 });
    assert.deepEqual(parseHeartBeat('100,2000'), { clientSendsMs: 100, clientWantsMs: 2000 });
    for (const bad of ['', '1', '1,2,3', 'a,b', '-1,0', ' 1,2', '1, 2']) assert.equal(parseHeartBeat(bad), undefined, bad);
  });

  it('agrees on max(own, theirs) in both directions, with a floor', () => {
    assert.deepEqual(negotiateHeartBeat({ clientSendsMs: 0, clientWantsMs: 0 }, 100), { serverSendsMs: 0, clientSendsMs: 0, header: '0,0' });
    assert.deepEqual(negotiateHeartBeat({ clientSendsMs: 500, clientWantsMs: 0 }, 100), { serverSendsMs: 0, clientSendsMs: 500, header: '0,500' });
    assert.deepEqual(negotiateHeartBeat({ clientSendsMs: 1, clientWantsMs: 2 }, 100), { serverSendsMs: 100, clientSendsMs: 100, header: '100,100' });
  });
});

describe('HeartBeatTimers', () => {
  function setup(serverSendsMs: number, clientSendsMs: number) {
    const clock = new ManualClock(0);
    const events: string[] = [];
    let lastWrite = 0;
    let lastRead = 0;
    const timers = new HeartBeatTimers(
      {
        clock,
        lastWriteAt: () => lastWrite,
        lastReadAt: () => lastRead,
        sendHeartBeat: () => {
          events.push(`beat@${clock.now()}`);
          lastWrite = clock.now();
        },
        peerSilent: () => events.push(`silent@${clock.now()}`),
      },
      negotiateHeartBeat({ clientSendsMs, clientWantsMs: serverSendsMs }, 1),
    );
    return {
      clock,
      events,
      timers,
      wrote: () => (lastWrite = clock.now()),
      read: () => (lastRead = clock.now()),
    };
  }

  it('sends an EOL only after a whole interval without writes', () => {
    const t = setup(100, 0);
    t.clock.advance(60);
    t.wrote();
    t.clock.advance(40); // 100: last write 40 ago, nothing due
    assert.deepEqual(t.events, []);
    t.clock.advance(60); // 160: due
    assert.deepEqual(t.events, ['beat@160']);
    t.clock.advance(100);
    assert.deepEqual(t.events, ['beat@160', 'beat@260']);
    t.timers.stop();
    t.clock.advance(1000);
    assert.equal(t.events.length, 2);
  });

  it('declares the peer silent after twice its interval without a byte', () => {
    const t = setup(0, 100);
    t.clock.advance(150);
    t.read();
    t.clock.advance(199);
    assert.deepEqual(t.events, []);
    t.clock.advance(1);
    assert.deepEqual(t.events, ['silent@350']);
  });
});
