/**
 * The web console end to end in a real browser: playwright-core drives Debian's chromium against a real
 * server. It creates a topic through the form, publishes to it, watches the counts move, dead-letters a
 * message with amqplib and redrives it from the Dead letters page. A screenshot of each page is saved
 * under test/artifacts/ (ignored by git) for people to look at.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { applyTopology, desiredState, ManagementClient, parseTopology, RestTopologyTarget } from '../../src/management/topology/index.js';
import { findPackageRoot } from '../../src/server/package-info.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';
import { GUEST_AUTH } from './http-harness.js';

const CHROMIUM = process.env['COURIER_CHROMIUM'] ?? '/usr/bin/chromium';
// Checked once when the file loads: whether to run at all, not a path a message takes.
const skip = existsSync(CHROMIUM) ? false : `chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set COURIER_CHROMIUM)`;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const WAIT_MS = 20_000;

interface QueueJson {
  name: string;
  messagesReady: number;
  messagesUnacked: number;
}

/** Polls an async condition until it holds, or fails with `what` after the timeout. */
async function until<T>(what: string, produce: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await produce();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('web console in a real browser', { skip }, () => {
  let dataDir: string;
  let server: ServerHandle;
  let base: string;
  let browserServer: BrowserServer;
  let browser: Browser;
  let page: Page;
  let artifacts: string;
  let amqpConnection: amqp.ChannelModel | undefined;
  const pageErrors: string[] = [];

  const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: GUEST_AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const queue = async (name: string): Promise<QueueJson> => {
    const response = await api('GET', `/api/queues/${encodeURIComponent(name)}`);
    assert.equal(response.status, 200, `GET queue ${name}`);
    return (await response.json()) as QueueJson;
  };
  const screenshot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(artifacts, `console-${name}.png`), fullPage: true });
  };
  const open = async (hash: string, heading: string | RegExp): Promise<void> => {
    await page.goto(`${base}/${hash}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  /** A table row whose header cell is exactly `name`. */
  const row = (name: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });

  before(async () => {
    const root = await findPackageRoot(fileURLToPath(new URL('.', import.meta.url)));
    assert.ok(root, 'the package root');
    assert.ok(
      existsSync(join(root, 'dist', 'console', 'app.js')),
      'dist/console/app.js is missing: build the console with `npx tsc -p console/tsconfig.json` (npm run build does)',
    );
    artifacts = join(root, 'test', 'artifacts');
    await mkdir(artifacts, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), 'courier-console-'));
    server = await startServer(testServerConfig(dataDir, { httpPort: 0, amqpPort: 0 }), { version: '0.0.0-console-test' });
    base = `http://127.0.0.1:${server.addresses.http?.port ?? 0}`;
    browserServer = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    browser = await chromium.connect(browserServer.wsEndpoint());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A CSP violation (an inline style or script) is a console error; refused requests (the wrong
    // password below) are logged as failed loads and are expected.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
  });

  after(async () => {
    await amqpConnection?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    const pid = browserServer?.process().pid;
    await browserServer?.close().catch(() => undefined);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('serves the console at / and shows the overview', async () => {
    await open('', 'Overview');
    assert.equal(await page.title(), 'Overview · Courier');
    await page.getByTestId('stat-version').filter({ hasText: '0.0.0-console-test' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Overview' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.getByRole('img', { name: /^Publish rate/ }).count(), 1, 'an SVG chart named for assistive technology');
  });

  test('creates a topic through the form, with a readable error for a bad name first', async () => {
    await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link', { name: 'Topics' }).click();
    await page.getByRole('heading', { level: 1, name: 'Topics' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('bad name');
    await page.getByRole('button', { name: 'Create topic' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The topic was not created' });
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /Bad Request \(INVALID_NAME\): topic name 'bad name' contains a space/);

    await page.getByLabel('Name', { exact: true }).fill('orders.placed');
    await page.getByLabel('Display name').fill('Order placed');
    await page.getByLabel('Description').fill('A customer placed an order');
    await page.getByRole('button', { name: 'Create topic' }).click();
    await page.getByRole('status').filter({ hasText: 'Topic orders.placed (Order placed) is saved.' }).waitFor();
    await row('orders.placed').filter({ hasText: 'Order placed' }).filter({ hasText: 'A customer placed an order' }).waitFor();
    const topic = (await (await api('GET', '/api/topics/orders.placed')).json()) as Record<string, unknown>;
    assert.equal(topic['displayName'], 'Order placed');
  });

  test('publishes to the topic and sees the counts move', async () => {
    // A consuming service as topology as code makes it: audit.orders.placed bound to amq.topic.
    assert.equal((await api('PUT', '/api/queues/audit.orders.placed', {})).status, 201);
    assert.equal(
      (await api('POST', '/api/bindings', { source: 'amq.topic', destination: 'audit.orders.placed', destinationKind: 'queue', routingKey: 'orders.placed' })).status,
      201,
    );
    // The service shows up as a consumer of the topic once the table refreshes.
    await row('orders.placed').filter({ hasText: 'audit' }).waitFor();
    await page.getByLabel('Topic', { exact: true }).selectOption('orders.placed');
    await page.getByLabel('Body').fill('{"order":42}');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'Published to orders.placed: stored in 1 queue.' }).waitFor();
    await screenshot('topics');

    // A second message from a real AMQP client.
    amqpConnection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.addresses.amqp?.port ?? 0}`);
    amqpConnection.on('error', () => undefined);
    const channel = await amqpConnection.createConfirmChannel();
    channel.publish('amq.topic', 'orders.placed', Buffer.from('{"order":43}'), { contentType: 'application/json', persistent: true });
    await channel.waitForConfirms();
    await channel.close();

    await open('#/queues', 'Queues');
    await row('audit.orders.placed').getByRole('cell', { name: '2', exact: true }).first().waitFor();
    await screenshot('queues');

    await row('audit.orders.placed').getByRole('link', { name: 'audit.orders.placed' }).click();
    await page.getByRole('heading', { level: 1, name: 'Queue audit.orders.placed' }).waitFor();
    await page.getByRole('heading', { name: 'Message 2' }).waitFor();
    const bodies = await page.locator('pre.body').allTextContents();
    assert.deepEqual(bodies, ['{\n  "order": 42\n}', '{\n  "order": 43\n}'], 'the browser peeks both messages in order');
    assert.equal((await queue('audit.orders.placed')).messagesReady, 2, 'peeking consumed nothing');
    await screenshot('queue');

    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByTestId('stat-published').filter({ hasText: /^2$/ }).waitFor();
    await page.getByTestId('stat-ready').filter({ hasText: /^2$/ }).waitFor();
    // Two polls make a rate: the chart's line and its caption appear.
    await page.locator('svg.chart path.line.publish').waitFor();
    assert.match((await page.getByTestId('rate-publish').textContent()) ?? '', /\/s$/);
    await screenshot('overview');
  });

  test('redrives a message dead-lettered by an amqplib nack from the Dead letters page', async () => {
    assert.equal((await api('PUT', '/api/queues/work.dlq', {})).status, 201);
    assert.equal(
      (await api('PUT', '/api/queues/work', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work.dlq' } })).status,
      201,
    );
    assert.ok(amqpConnection);
    const channel = await amqpConnection.createChannel();
    let nacked!: () => void;
    const nackedOnce = new Promise<void>((resolve) => (nacked = resolve));
    const { consumerTag } = await channel.consume(
      'work',
      (message) => {
        if (!message) return;
        channel.nack(message, false, false);
        nacked();
      },
      { noAck: false },
    );
    channel.sendToQueue('work', Buffer.from('job-1'), { contentType: 'text/plain', persistent: true });
    await nackedOnce;
    // Stop consuming so that the redriven message stays in work for us to see.
    await channel.cancel(consumerTag);
    await until('the dead letter in work.dlq', async () => ((await queue('work.dlq')).messagesReady === 1 ? true : undefined));

    await open('#/dead-letters', 'Dead letters');
    const section = page.getByRole('region', { name: 'work.dlq' });
    await section.getByRole('list', { name: 'Reasons in work.dlq' }).filter({ hasText: 'rejected: 1' }).waitFor();
    await section.getByText('Messages', { exact: true }).click();
    await section.getByText(/rejected by a consumer \(nack \/ reject without requeue\) in queue work; came from the default exchange with routing key work/).waitFor();
    await screenshot('dead-letters');

    await section.getByRole('button', { name: 'Redrive work.dlq' }).click();
    await section.getByRole('status').filter({ hasText: 'Redrive of work.dlq: moved 1 message back, 0 skipped.' }).waitFor();
    const [work, dlq] = await Promise.all([queue('work'), queue('work.dlq')]);
    assert.equal(work.messagesReady, 1, 'back in its queue');
    assert.equal(dlq.messagesReady, 0, 'gone from the dead-letter queue');

    await open('#/queues', 'Queues');
    await row('work').getByRole('cell', { name: '1', exact: true }).first().waitFor();
    await row('work.dlq').waitFor();
    assert.equal(await row('work.dlq').getByRole('cell').nth(1).textContent(), '0', 'the dead-letter queue shows empty');
    await channel.close();
  });

  test('lists connections and closes one with its Close button', async () => {
    assert.ok(amqpConnection);
    const closed = new Promise<void>((resolve) => amqpConnection?.once('close', () => resolve()));
    await open('#/connections', 'Connections');
    const amqpRow = page.getByRole('row').filter({ hasText: 'amqp' }).filter({ hasText: 'guest' }).filter({ hasText: '127.0.0.1' });
    await amqpRow.waitFor();
    await screenshot('connections');
    page.once('dialog', (dialog) => void dialog.accept());
    await amqpRow.getByRole('button', { name: /^Close connection / }).click();
    await page.getByRole('status').filter({ hasText: /^Closed connection \d+ \(amqp, / }).waitFor();
    await closed;
    amqpConnection = undefined;
  });

  test('shows the topology: which service consumes which topic, exchanges and bindings', async () => {
    await open('#/topology', 'Topology');
    await page.getByRole('img', { name: /audit consumes orders\.placed/ }).waitFor();
    await row('audit').filter({ hasText: 'orders.placed' }).filter({ hasText: 'audit.orders.placed' }).waitFor();
    await row('amq.topic').filter({ hasText: 'topic' }).first().waitFor();
    // Only the queue tells of audit so far: no service records, so no producer.
    assert.doesNotMatch((await page.getByRole('img', { name: /^Topology: / }).getAttribute('aria-label')) ?? '', /produces/);
    assert.equal(await page.locator('svg.topology .node.producer').count(), 0);
  });

  test('after applying a topology the view shows its producers, live', async () => {
    const parsed = parseTopology(
      [
        'topics:',
        '  - { name: orders.placed, displayName: Order placed, description: A customer placed an order }',
        'services:',
        '  - { name: checkout, displayName: Checkout, produces: [orders.placed] }',
        '  - { name: audit, consumes: [orders.placed] }',
        '',
      ].join('\n'),
      'courier.yaml',
    );
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const target = new RestTopologyTarget(new ManagementClient({ url: base, user: 'guest', password: 'guest' }));
    const result = await applyTopology(desiredState(parsed.document), target);
    assert.deepEqual(
      result.applied.map((action) => action.kind),
      ['create-service', 'create-service'],
      'the topic, queue and binding existed; only the service records are new',
    );
    // The page polls: the producer appears without a reload.
    await page.getByRole('img', { name: /checkout produces orders\.placed/ }).waitFor();
    await page.locator('svg.topology .node.producer').filter({ hasText: 'checkout' }).waitFor();
    assert.equal(await page.locator('svg.topology .edge.produces').count(), 1);
    await row('checkout').filter({ hasText: 'produces' }).filter({ hasText: 'orders.placed' }).waitFor();
    await row('audit').filter({ hasText: 'consumes' }).filter({ hasText: 'audit.orders.placed' }).waitFor();
    assert.match((await row('audit').filter({ hasText: 'consumes' }).textContent()) ?? '', /^auditconsumesorders\.placed/, 'declared now: no "queue only" note');
    await screenshot('topology');
  });

  test('asks for credentials the broker accepts and shows its refusal readably', async () => {
    await page.getByRole('button', { name: 'Change user' }).click();
    await page.getByLabel('User name').fill('guest');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /Not signed in\. Unauthorized \(AUTHENTICATION_FAILED\)/ }).waitFor();
    await screenshot('sign-in');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // The form closes only once the broker accepted the new credentials.
    await page.getByRole('form', { name: 'Sign in to the management API' }).waitFor({ state: 'hidden' });
    assert.equal(await page.getByTestId('current-user').textContent(), 'Signed in as guest');
    assert.equal(await page.getByRole('alert').count(), 0, 'no error left on screen');
    assert.deepEqual(pageErrors, [], 'no script errors or CSP violations on any page');
  });
});
