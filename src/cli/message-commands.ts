import { segment } from '../management/topology/index.js';
import { commandHelp, integerFlag, pairsFlag, parseCommandArgs, stringFlag, usageError, type FlagSpec, type ParsedArgs } from './args.js';
import type { CliIo } from './cli-io.js';
import { ExitCode, type Command } from './command.js';
import { clientFor, connectionFlags, jsonFlag } from './connection-flags.js';
import { formatTable } from './table.js';

const publishFlags: readonly FlagSpec[] = [
  { name: 'header', type: 'string', multiple: true, placeholder: 'KEY=VALUE', description: 'A message header (repeatable).' },
  { name: 'exchange', type: 'string', placeholder: 'NAME', description: 'Publish to this exchange instead of a topic ("" is the default exchange).' },
  { name: 'routing-key', type: 'string', placeholder: 'KEY', description: 'Routing key with --exchange (default "").' },
  { name: 'content-type', type: 'string', placeholder: 'TYPE', description: 'Content type (default text/plain; charset=utf-8).' },
  { name: 'correlation-id', type: 'string', placeholder: 'ID', description: 'Correlation id property.' },
  { name: 'reply-to', type: 'string', placeholder: 'NAME', description: 'Reply-to property.' },
  { name: 'message-id', type: 'string', placeholder: 'ID', description: 'Message id property.' },
  { name: 'expiration', type: 'string', placeholder: 'MS', description: 'Per-message time to live in milliseconds.' },
  { name: 'transient', type: 'boolean', description: 'Not persistent (persistent by default).' },
  ...connectionFlags,
  jsonFlag,
];

async function bodyOf(text: string | undefined, io: CliIo): Promise<Uint8Array> {
  if (text === undefined) return new Uint8Array();
  if (text !== '-') return new TextEncoder().encode(text);
  if (!io.readStdin) throw usageError('publish: no standard input to read the body from');
  return io.readStdin();
}

function positionalsFor(parsed: ParsedArgs): { topic: string | undefined; body: string | undefined } {
  const viaExchange = stringFlag(parsed, 'exchange') !== undefined;
  const [first, second, extra] = parsed.positionals;
  if (viaExchange) {
    if (second !== undefined) throw usageError(`publish: unexpected argument "${second}" (with --exchange, give only the body)`);
    return { topic: undefined, body: first };
  }
  if (first === undefined) throw usageError('publish: missing <topic> (or --exchange NAME --routing-key KEY) (see courier publish --help)');
  if (extra !== undefined) throw usageError(`publish: unexpected argument "${extra}"; quote a body with spaces`);
  return { topic: first, body: second };
}

export const publishCommand: Command = {
  name: 'publish',
  summary: 'Publish a message to a topic or an exchange through the REST API.',
  help: () =>
    commandHelp(
      ['courier publish <topic> [body|-] [--header KEY=VALUE ...]', 'courier publish --exchange NAME --routing-key KEY [body|-]'],
      [
        'Publishes one message and reports how many queues took it, once it is durable there. The body is',
        'the argument as UTF-8, standard input with "-", or empty. A topic is a routing key in amq.topic',
        '(MQTT topic a/b is routing key a.b). A message no queue takes is dropped (exit 0, a warning).',
      ].join('\n'),
      publishFlags,
    ),
  async run(args, io) {
    const parsed = parseCommandArgs('publish', args, publishFlags);
    if (parsed.help) {
      io.stdout(this.help());
      return ExitCode.ok;
    }
    const { topic, body } = positionalsFor(parsed);
    const exchange = stringFlag(parsed, 'exchange');
    if (exchange === undefined && stringFlag(parsed, 'routing-key') !== undefined) {
      throw usageError('publish: --routing-key needs --exchange (a topic is its own routing key)');
    }
    const headers: Record<string, string> = {
      'content-type': stringFlag(parsed, 'content-type') ?? 'text/plain; charset=utf-8',
    };
    for (const [key, value] of Object.entries(pairsFlag(parsed, 'header', false))) headers[`x-courier-header-${key}`] = String(value);
    const properties: [string, string][] = [
      ['correlation-id', 'x-courier-correlation-id'],
      ['reply-to', 'x-courier-reply-to'],
      ['message-id', 'x-courier-message-id'],
      ['expiration', 'x-courier-expiration'],
    ];
    for (const [flag, header] of properties) {
      const value = stringFlag(parsed, flag);
      if (value !== undefined) headers[header] = value;
    }
    if (parsed.booleans.has('transient')) headers['x-courier-persistent'] = 'false';
    const routingKey = stringFlag(parsed, 'routing-key') ?? '';
    // The default exchange routes by queue name; the API reaches it through the queue's own route.
    const path =
      exchange === undefined
        ? `/api/topics/${segment(topic ?? '')}/messages`
        : exchange === '' || exchange === 'amq.default'
          ? `/api/queues/${segment(routingKey)}/messages`
          : `/api/exchanges/${segment(exchange)}/messages?${new URLSearchParams({ routingKey }).toString()}`;
    const client = clientFor(parsed, io);
    const response = await client.request('POST', path, { rawBody: await bodyOf(body, io), headers });
    const result = (response.body ?? {}) as { routed?: number };
    const routed = result.routed ?? 0;
    if (parsed.booleans.has('json')) io.stdout(`${JSON.stringify(result)}\n`);
    else {
      const where = exchange === undefined ? `topic ${topic}` : exchange === '' ? 'the default exchange' : `exchange ${exchange}`;
      io.stdout(`Published to ${where}: stored in ${routed} queue${routed === 1 ? '' : 's'}.\n`);
    }
    if (routed === 0) io.stderr('courier: warning: no queue is bound to take this message; it was dropped\n');
    return ExitCode.ok;
  },
};

const consumeFlags: readonly FlagSpec[] = [
  { name: 'max', type: 'string', placeholder: 'N', description: 'Take up to N messages (1-100, default 1).' },
  { name: 'wait', type: 'string', placeholder: 'SECONDS', description: 'Wait up to this long for a first message (0-60, default 0).' },
  { name: 'requeue', type: 'boolean', description: 'Put the messages back instead of acknowledging them (a peek).' },
  ...connectionFlags,
  jsonFlag,
];

interface PulledMessage {
  exchange?: string;
  routingKey?: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, unknown>;
  redelivered?: boolean;
  receiptHandle?: string;
}

/** The body as text when it is UTF-8 without control characters, else `base64:...`. */
function bodyText(base64: string | undefined): string {
  if (base64 === undefined) return '';
  const bytes = Buffer.from(base64, 'base64');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const printable = !text.includes('\uFFFD') && !/[\p{Cc}]/u.test(text.replace(/[\n\r\t]/g, ''));
  return printable ? text : `base64:${base64}`;
}

export const consumeCommand: Command = {
  name: 'consume',
  summary: 'Take messages from a queue through the REST API (acknowledged unless --requeue).',
  help: () =>
    commandHelp(
      ['courier consume <queue> [--max N] [--wait SECONDS] [--requeue]'],
      [
        'Pulls up to --max messages from the queue, waiting up to --wait seconds for the first one, prints',
        'them, then acknowledges them (they are gone) or, with --requeue, puts them back. Exit 0 also when',
        'the queue was empty (nothing printed but "(no messages)").',
      ].join('\n'),
      consumeFlags,
    ),
  async run(args, io) {
    const parsed = parseCommandArgs('consume', args, consumeFlags);
    if (parsed.help) {
      io.stdout(this.help());
      return ExitCode.ok;
    }
    const [queue, extra] = parsed.positionals;
    if (queue === undefined) throw usageError('consume: missing <queue> (see courier consume --help)');
    if (extra !== undefined) throw usageError(`consume: unexpected argument "${extra}"`);
    const max = integerFlag(parsed, 'max', 1, 100) ?? 1;
    const wait = integerFlag(parsed, 'wait', 0, 60) ?? 0;
    const client = clientFor(parsed, io);
    const base = `/api/queues/${segment(queue)}/messages`;
    const response = await client.request('GET', `${base}?max=${max}&wait=${wait}`, { extraTimeoutMs: wait * 1000 });
    const messages = ((response.body as { messages?: PulledMessage[] } | undefined)?.messages ?? []).slice(0, max);
    const handles = messages.flatMap((message) => (message.receiptHandle === undefined ? [] : [message.receiptHandle]));
    if (handles.length > 0) {
      const settle = parsed.booleans.has('requeue') ? 'nack' : 'ack';
      await client.request('POST', `${base}/${settle}`, { body: settle === 'nack' ? { receiptHandles: handles, requeue: true } : { receiptHandles: handles } });
    }
    if (parsed.booleans.has('json')) {
      io.stdout(`${JSON.stringify(messages.map(({ receiptHandle: _handle, ...message }) => message), null, 2)}\n`);
      return ExitCode.ok;
    }
    io.stdout(
      formatTable(
        ['exchange', 'routing key', 'redelivered', 'headers', 'body'],
        messages.map((message) => [
          message.exchange === '' ? '(default)' : message.exchange,
          message.routingKey,
          message.redelivered ? 'yes' : 'no',
          message.headers && Object.keys(message.headers).length > 0 ? message.headers : '',
          bodyText(message.body),
        ]),
        '(no messages)',
      ),
    );
    return ExitCode.ok;
  },
};
