import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceAlarms } from './resource-alarms.js';

describe('ResourceAlarms', () => {
  it('tells listeners only when publishing becomes blocked or allowed, whichever alarms cause it', () => {
    const alarms = new ResourceAlarms();
    const seen: boolean[] = [];
    alarms.subscribe((blocked) => seen.push(blocked));
    alarms.set('memory', true);
    alarms.set('disk', true);
    assert.deepEqual(alarms.resources, ['memory', 'disk']);
    assert.equal(alarms.reason, 'low on memory, low on disk');
    alarms.set('memory', false);
    assert.equal(alarms.blocked, true, 'the disk alarm still blocks');
    alarms.set('disk', false);
    alarms.set('disk', false);
    assert.deepEqual(seen, [true, false]);
    assert.equal(alarms.blocked, false);
  });

  it('stops telling a listener once it unsubscribed, even during a notification', () => {
    const alarms = new ResourceAlarms();
    const seen: string[] = [];
    const stopFirst = alarms.subscribe(() => {
      seen.push('first');
      stopSecond();
    });
    const stopSecond = alarms.subscribe(() => seen.push('second'));
    alarms.set('memory', true);
    stopFirst();
    alarms.set('memory', false);
    assert.deepEqual(seen, ['first', 'second']);
    assert.equal(alarms.listenerCount, 0);
  });

  it('onceClear calls back once when publishing is allowed again, at once when it is, and not after being stopped', () => {
    const alarms = new ResourceAlarms();
    const calls: string[] = [];
    alarms.onceClear(() => calls.push('no alarm'));
    alarms.set('disk', true);
    alarms.onceClear(() => calls.push('cleared'));
    const stop = alarms.onceClear(() => calls.push('stopped'));
    stop();
    alarms.set('disk', false);
    alarms.set('disk', true);
    alarms.set('disk', false);
    assert.deepEqual(calls, ['no alarm', 'cleared']);
    assert.equal(alarms.listenerCount, 0);
  });
});
