import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/null-ports.js';
import { HttpRouter } from '../../server/http-router.js';
import { HttpListener } from '../../transport/http-listener.js';
import { consoleRoutes } from './console-routes.js';
import { isServableName } from './static-files.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw request: the path goes on the wire as written (fetch would normalise `/../`). */
function send(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console static files', () => {
  let base: string;
  let listener: HttpListener;
  let port: number;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'courier-console-'));
    const scripts = join(base, 'scripts');
    const pages = join(base, 'pages');
    await mkdir(scripts);
    await mkdir(pages);
    await mkdir(join(scripts, 'nested'));
    await writeFile(join(base, 'secret.txt'), 'SECRET-FILE');
    await writeFile(join(scripts, 'app.js'), 'export const app = 1;\n');
    await writeFile(join(scripts, 'app.js.map'), '{"version":3}');
    await writeFile(join(scripts, 'shadowed.css'), 'from scripts');
    await writeFile(join(scripts, 'nested', 'inner.js'), 'NESTED-FILE');
    await writeFile(join(scripts, '.hidden.js'), 'HIDDEN-FILE');
    await writeFile(join(scripts, 'tool.exe'), 'BINARY-FILE');
    await writeFile(join(pages, 'index.html'), '<!doctype html><title>Courier</title>');
    await writeFile(join(pages, 'console.css'), 'body { margin: 0 }');
    await writeFile(join(pages, 'shadowed.css'), 'from pages');
    await writeFile(join(pages, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const router = new HttpRouter(consoleRoutes({ roots: [scripts, pages] }), silentLogger);
    listener = await HttpListener.open({ host: '127.0.0.1', port: 0, handler: router.handle });
    port = listener.address.port;
  });

  after(async () => {
    await listener.close();
    await rm(base, { recursive: true, force: true });
  });

  it('serves the page at / with its content type, a CSP and no-cache', async () => {
    const reply = await send(port, '/');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(reply.body, '<!doctype html><title>Courier</title>');
    assert.equal(reply.headers['cache-control'], 'no-cache');
    assert.match(String(reply.headers['content-security-policy']), /default-src 'self'/);
    assert.match(String(reply.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(reply.headers['x-content-type-options'], 'nosniff');
    assert.match(String(reply.headers['etag']), /^W\/"/);
    assert.equal((await send(port, '/index.html')).body, reply.body);
  });

  it('gives each asset its content type, searching the roots in order', async () => {
    const expected: [string, string][] = [
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/app.js.map', 'application/json; charset=utf-8'],
      ['/console.css', 'text/css; charset=utf-8'],
      ['/icon.svg', 'image/svg+xml'],
    ];
    for (const [path, type] of expected) {
      const reply = await send(port, path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.headers['content-type'], type, path);
      assert.equal(reply.headers['content-security-policy'], undefined, `${path} is not a page`);
    }
    assert.equal((await send(port, '/shadowed.css')).body, 'from scripts', 'the first root wins');
  });

  it('answers 304 to a matching If-None-Match and HEAD without a body', async () => {
    const first = await send(port, '/app.js');
    const etag = String(first.headers['etag']);
    const again = await send(port, '/app.js', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal((await send(port, '/app.js', { headers: { 'if-none-match': 'W/"other"' } })).status, 200);
    const head = await send(port, '/app.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength('export const app = 1;\n')));
  });

  it('answers 404 problem details for missing files, unknown types, dot-files and directories', async () => {
    for (const path of ['/missing.js', '/tool.exe', '/.hidden.js', '/nested', '/nested/inner.js', '/secret.txt']) {
      const reply = await send(port, path);
      assert.equal(reply.status, 404, path);
      assert.match(String(reply.headers['content-type']), /application\/problem\+json/, path);
      assert.doesNotMatch(reply.body, /-FILE/, path);
    }
  });

  it('never leaves its roots, however the path is encoded', async () => {
    const attempts = [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/%2E%2E/secret.txt',
      '/..%5csecret.txt',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/%2fetc%2fpasswd',
      '/scripts%2f..%2fsecret.txt',
      '/app.js%00.txt',
      '/..',
      '/.',
    ];
    for (const path of attempts) {
      const reply = await send(port, path);
      // `/..` and `/.` are normalised to `/` by the URL parser: the page, which is fine.
      if (reply.status === 200) assert.match(reply.body, /<title>Courier/, path);
      else assert.equal(reply.status, 404, path);
      assert.doesNotMatch(reply.body, /SECRET-FILE|root:/, path);
    }
  });

  it('answers 404 for everything when the console was not built (no roots)', async () => {
    const router = new HttpRouter(consoleRoutes({ roots: [] }), silentLogger);
    const empty = await HttpListener.open({ host: '127.0.0.1', port: 0, handler: router.handle });
    try {
      for (const path of ['/', '/app.js']) {
        const reply = await send(empty.address.port, path);
        assert.equal(reply.status, 404, path);
        assert.match(String(reply.headers['content-type']), /application\/problem\+json/);
      }
    } finally {
      await empty.close();
    }
  });

  it('accepts plain file names only', () => {
    for (const name of ['index.html', 'app.js', 'app.js.map', 'console.css', 'page-topics.js']) assert.ok(isServableName(name), name);
    for (const name of ['', '.', '..', '../x.js', 'a/b.js', 'a\\b.js', '.env', 'x.js\0', 'x.exe', 'noextension', `${'a'.repeat(300)}.js`]) {
      assert.equal(isServableName(name), false, JSON.stringify(name));
    }
  });
});
