import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summariseProfiles } from './cpu-profile.js';

test('self time is summed per function and per file over profiles, idle left out', () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '') },
      { id: 2, callFrame: frame('(idle)', '') },
      { id: 3, callFrame: frame('route', 'file:///elsewhere/router.js', 9) },
      { id: 4, callFrame: frame('encode', 'file:///elsewhere/codec.js', 0) },
    ],
    samples: [2, 3, 3, 4, 2],
    timeDeltas: [1000, 10, 20, 30, 5000],
  };
  const summary = summariseProfiles([profile, profile]);
  assert.equal(summary.profiles, 2);
  assert.equal(summary.busyMicros, 120);
  assert.deepEqual(summary.functions, [
    { name: 'route /elsewhere/router.js:10', micros: 60 },
    { name: 'encode /elsewhere/codec.js:1', micros: 60 },
  ]);
  assert.deepEqual(summary.files.map((file) => file.name), ['/elsewhere/router.js', '/elsewhere/codec.js']);
});
