import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { everyInterval, ManualClock, systemClock } from './clock.js';

const MAX_TIMER_MS = 0x7fffffff;

describe('systemClock timers', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('runs a timer longer than a Node timer holds at its time, not at once', () => {
    let fired = 0;
    systemClock.setTimer(MAX_TIMER_MS + 1000, () => (fired += 1));
    mock.timers.tick(10);
    assert.equal(fired, 0);
    mock.timers.tick(MAX_TIMER_MS - 10);
    assert.equal(fired, 0);
    mock.timers.tick(999);
    assert.equal(fired, 0);
    mock.timers.tick(1);
    assert.equal(fired, 1);
  });

  it('cancels a long timer in any link of its chain', () => {
    let fired = 0;
    const handle = systemClock.setTimer(MAX_TIMER_MS + 1000, () => (fired += 1));
    mock.timers.tick(MAX_TIMER_MS + 10);
    handle.cancel();
    mock.timers.tick(2000);
    assert.equal(fired, 0);
  });

  it('runs short timers once', () => {
    let fired = 0;
    systemClock.setTimer(50, () => (fired += 1));
    mock.timers.tick(49);
    assert.equal(fired, 0);
    mock.timers.tick(1);
    mock.timers.tick(100);
    assert.equal(fired, 1);
  });
});

describe('everyInterval', () => {
  it('ticks every interval until cancelled, also when cancelled from inside a tick', () => {
    const clock = new ManualClock();
    let ticks = 0;
    const handle = everyInterval(clock, 100, () => {
      ticks += 1;
      if (ticks === 3) handle.cancel();
    });
    clock.advance(99);
    assert.equal(ticks, 0);
    clock.advance(1);
    assert.equal(ticks, 1);
    clock.advance(1000);
    assert.equal(ticks, 3);
    const outside = everyInterval(clock, 10, () => (ticks += 100));
    outside.cancel();
    clock.advance(100);
    assert.equal(ticks, 3);
  });
});
