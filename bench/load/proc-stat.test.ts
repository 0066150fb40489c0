import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessTreeProbe, parseMachineCpu, parseProcStat } from './proc-stat.js';

test('a stat line is read from after the command name, which may hold spaces and parentheses', () => {
  const fields = Array.from({ length: 50 }, (_, index) => String(index + 3));
  fields[0] = 'S';
  const line = `1234 (beam.smp (x) y) ${fields.join(' ')}\n`;
  assert.deepEqual(parseProcStat(line), { ppid: 4, utimeTicks: 14, stimeTicks: 15, rssPages: 24 });
  assert.equal(parseProcStat('garbage'), undefined);
});

test('the machine line of /proc/stat counts busy time and steal', () => {
  const text = 'cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n';
  assert.deepEqual(parseMachineCpu(text, 100), { busySeconds: 1.7, stealSeconds: 0.1 });
});

test('this process, probed through /proc, has CPU time and memory', { skip: process.platform !== 'linux' }, async () => {
  const probe = new ProcessTreeProbe(process.pid);
  assert.ok((await probe.refresh()).includes(process.pid));
  const before = await probe.sample();
  const until = performance.now() + 50;
  while (performance.now() < until) Math.sqrt(Math.random());
  const after = await probe.sample();
  assert.ok(after.rssBytes > 10 * 1024 * 1024, `rss ${after.rssBytes}`);
  assert.ok(after.cpuSeconds >= before.cpuSeconds);
});
