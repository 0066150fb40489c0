import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { IDLE_CONNECTIONS_SCRIPT, type IdleConnectionsReport } from './mqtt-idle-connections.js';
import { WorkerProcess } from './worker-process.js';

test('the idle-connections worker, started through the ulimit wrapper, holds every connection until go', async () => {
  const open = new Set<Socket>();
  let connects = 0;
  // Answers every CONNECT (first byte 0x10) with CONNACK 0; an MQTT client sends nothing else while idle.
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (chunk[0] === 0x10) {
        connects += 1;
        socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      } else if (chunk[0] === 0xe0) socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const worker = new WorkerProcess<IdleConnectionsReport>(IDLE_CONNECTIONS_SCRIPT, { host: '127.0.0.1', port, clientIdPrefix: 'idle-test', connections: 60, concurrency: 7 }, 'idle', { fdLimit: 65_536 });
  try {
    await worker.ready;
    assert.equal(connects, 60);
    assert.equal(open.size, 60, 'all held while the harness measures');
    worker.go();
    const report = await worker.done;
    assert.equal(report.connected, 60);
    assert.ok(report.endNs >= report.startNs);
    assert.match(report.fdLimit, /^\d+\/\d+$/);
    assert.ok(Number(report.fdLimit.split('/')[0]) >= 1024, `open-files limit ${report.fdLimit}`);
    await worker.exited;
  } finally {
    await worker.kill();
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
