// Aedes as a user would run it: `Aedes.createBroker()` with its default in-memory persistence
// (aedes-persistence) and emitter, behind a plain net server on loopback. Run by bench/peers/aedes.ts
// in a process of its own:   node bench/peers/aedes-server.mjs PORT
// Aedes is a dev dependency of the project; COURIER_BENCH_AEDES_DIR may name another installation
// (`npm install --prefix DIR aedes`) to compare a different version.
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

async function loadAedes() {
  try {
    return await import('aedes');
  } catch (error) {
    const directory = process.env.COURIER_BENCH_AEDES_DIR;
    if (!directory) throw error;
    const resolved = createRequire(join(directory, 'package.json')).resolve('aedes');
    return import(pathToFileURL(resolved).href);
  }
}

const port = Number(process.argv[2]);
const { Aedes } = await loadAedes();
const broker = await Aedes.createBroker();
const server = createServer((socket) => {
  // Nagle off, as Courier and the other brokers (Mosquitto with set_tcp_nodelay) run.
  socket.setNoDelay(true);
  broker.handle(socket);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`aedes ${broker.version} listening on 127.0.0.1:${port}`);
});

function shutDown() {
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGTERM', shutDown);
process.once('SIGINT', shutDown);
