import { DURATION_EXPECTED, parseDuration, parseSize, SIZE_EXPECTED } from '../management/topology/units.js';
import { retention } from '../management/topology/format-plan.js';
import { segment } from '../management/topology/index.js';
import { expectPositionals, pairsFlag, stringFlag, usageError, type FlagSpec } from './args.js';
import { ExitCode, type Command } from './command.js';
import { resourceCommand, type Subcommand, type SubcommandContext } from './subcommands.js';
import { formatTable } from './table.js';

const argFlag: FlagSpec = {
  name: 'arg',
  type: 'string',
  multiple: true,
  placeholder: 'KEY=VALUE',
  description: 'An argument (repeatable): --arg x-message-ttl=60000 (numbers, true, false typed).',
};

function list(path: string, headers: readonly string[], row: (item: Record<string, unknown>) => unknown[]): Subcommand {
  return {
    name: 'list',
    aliases: ['ls'],
    usage: '',
    summary: 'List them as a table (--json for the full records).',
    description: `Lists every entry of GET ${path}.`,
    flags: [],
    async run({ client, json, printJson, io, parsed }) {
      expectPositionals(`${path.slice(5)} list`, parsed, []);
      const items = await client.get<Record<string, unknown>[]>(path);
      if (json) printJson(items);
      else io.stdout(formatTable(headers, items.map(row)));
      return ExitCode.ok;
    },
  };
}

function done(context: SubcommandContext, text: string, json: unknown): number {
  if (context.json) context.printJson(json);
  else context.io.stdout(`${text}\n`);
  return ExitCode.ok;
}

const topics = resourceCommand('topics', 'List, create, update and delete topics (display name, description, retention).', [
  list('/api/topics', ['name', 'display name', 'retention', 'description'], (topic) => [
    topic['name'],
    topic['displayName'],
    topic['retention'] ? retention(topic['retention']) : '',
    topic['description'],
  ]),
  {
    name: 'create',
    usage: '<name> [--display-name TEXT] [--description TEXT] [--max-age 7d] [--max-bytes 1GiB]',
    summary: 'Create a topic.',
    description: 'Creates a topic: a routing key in amq.topic plus its registry entry. With --max-age, --max-bytes or\n--keep-history the topic keeps its history in a stream of its name.',
    flags: [
      { name: 'display-name', type: 'string', placeholder: 'TEXT', description: 'Name shown to people (default: the name).' },
      { name: 'description', type: 'string', placeholder: 'TEXT', description: 'What the topic carries.' },
      { name: 'max-age', type: 'string', placeholder: 'DURATION', description: 'Keep history this long (7d, 12h, 30m).' },
      { name: 'max-bytes', type: 'string', placeholder: 'SIZE', description: 'Keep at most this much history (500MB, 10GiB).' },
      { name: 'keep-history', type: 'boolean', description: 'Keep history without limits.' },
    ],
    async run(context) {
      const { parsed, client } = context;
      const [name] = expectPositionals('topics create', parsed, ['name']);
      const body: Record<string, unknown> = { name };
      const displayName = stringFlag(parsed, 'display-name');
      const description = stringFlag(parsed, 'description');
      if (displayName !== undefined) body['displayName'] = displayName;
      if (description !== undefined) body['description'] = description;
      const maxAge = stringFlag(parsed, 'max-age');
      const maxBytes = stringFlag(parsed, 'max-bytes');
      if (maxAge !== undefined || maxBytes !== undefined || parsed.booleans.has('keep-history')) {
        const kept: Record<string, number> = {};
        if (maxAge !== undefined) {
          const ms = parseDuration(maxAge);
          if (ms === undefined) throw usageError(`invalid value "${maxAge}" for --max-age: expected ${DURATION_EXPECTED}`);
          kept['maxAgeMs'] = ms;
        }
        if (maxBytes !== undefined) {
          const bytes = parseSize(maxBytes);
          if (bytes === undefined) throw usageError(`invalid value "${maxBytes}" for --max-bytes: expected ${SIZE_EXPECTED}`);
          kept['maxBytes'] = bytes;
        }
        body['retention'] = kept;
      }
      const response = await client.request('POST', '/api/topics', { body });
      return done(context, `Created topic ${name}.`, response.body);
    },
  },
  {
    name: 'update',
    usage: '<name> [--display-name TEXT] [--description TEXT]',
    summary: 'Change a topic\'s display name or description.',
    description: 'Changes the display name and/or the description of a topic (PATCH /api/topics/{name}).',
    flags: [
      { name: 'display-name', type: 'string', placeholder: 'TEXT', description: 'Name shown to people.' },
      { name: 'description', type: 'string', placeholder: 'TEXT', description: 'What the topic carries.' },
    ],
    async run(context) {
      const { parsed, client } = context;
      const [name = ''] = expectPositionals('topics update', parsed, ['name']);
      const body: Record<string, string> = {};
      const displayName = stringFlag(parsed, 'display-name');
      const description = stringFlag(parsed, 'description');
      if (displayName !== undefined) body['displayName'] = displayName;
      if (description !== undefined) body['description'] = description;
      if (Object.keys(body).length === 0) throw usageError('topics update: give --display-name and/or --description');
      const response = await client.request('PATCH', `/api/topics/${segment(name)}`, { body });
      return done(context, `Updated topic ${name}.`, response.body);
    },
  },
  {
    name: 'delete',
    aliases: ['rm'],
    usage: '<name>',
    summary: 'Delete a topic (and its history stream, if it keeps one).',
    description: 'Deletes a topic from the registry; a topic with retention also loses its history stream.',
    flags: [],
    async run(context) {
      const [name = ''] = expectPositionals('topics delete', context.parsed, ['name']);
      await context.client.request('DELETE', `/api/topics/${segment(name)}`);
      return done(context, `Deleted topic ${name}.`, { deleted: name });
    },
  },
]);

/** A service's topic list in a table cell. */
function topicList(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : '';
}

const services = resourceCommand('services', 'List and delete services (who produces and consumes which topic; courier apply declares them).', [
  list('/api/services', ['name', 'display name', 'produces', 'consumes', 'description'], (service) => [
    service['name'],
    service['displayName'],
    topicList(service['produces']),
    topicList(service['consumes']),
    service['description'],
  ]),
  {
    name: 'delete',
    aliases: ['rm'],
    usage: '<name>',
    summary: 'Delete a service record (its {service}.{topic} queues stay).',
    description: 'Deletes a service from the broker\'s records. Its queues are left as they are, with their messages:\ndelete them with courier queues delete when they are no longer needed.',
    flags: [],
    async run(context) {
      const [name = ''] = expectPositionals('services delete', context.parsed, ['name']);
      await context.client.request('DELETE', `/api/services/${segment(name)}`);
      return done(context, `Deleted service ${name}.`, { deleted: name });
    },
  },
]);

const queues = resourceCommand('queues', 'List, create and delete queues.', [
  list('/api/queues', ['name', 'type', 'durable', 'ready', 'unacked', 'consumers'], (queue) => [
    queue['name'],
    queue['type'],
    queue['durable'],
    queue['messagesReady'],
    queue['messagesUnacked'],
    queue['consumers'],
  ]),
  {
    name: 'create',
    usage: '<name> [--transient] [--auto-delete] [--type TYPE] [--arg KEY=VALUE ...]',
    summary: 'Create a queue (durable unless --transient); succeeds if it exists as given.',
    description: 'Declares a queue. An existing queue with the same settings is left as it is; one with other\nsettings is a conflict (409), as RabbitMQ answers 406 to such a redeclare.',
    flags: [
      { name: 'transient', type: 'boolean', description: 'Not durable: the queue and its messages end with the broker.' },
      { name: 'auto-delete', type: 'boolean', description: 'Delete the queue when its last consumer leaves.' },
      { name: 'type', type: 'string', placeholder: 'TYPE', description: 'classic (default), quorum or stream (sets x-queue-type).' },
      argFlag,
    ],
    async run(context) {
      const { parsed, client } = context;
      const [name = ''] = expectPositionals('queues create', parsed, ['name']);
      const args: Record<string, unknown> = pairsFlag(parsed, 'arg', true);
      const type = stringFlag(parsed, 'type');
      if (type !== undefined) args['x-queue-type'] = type;
      const response = await client.request('PUT', `/api/queues/${segment(name)}`, {
        body: { durable: !parsed.booleans.has('transient'), autoDelete: parsed.booleans.has('auto-delete'), arguments: args },
      });
      return done(context, response.status === 201 ? `Created queue ${name}.` : `Queue ${name} exists already with these settings.`, {
        name,
        created: response.status === 201,
      });
    },
  },
  {
    name: 'delete',
    aliases: ['rm'],
    usage: '<name> [--if-unused] [--if-empty]',
    summary: 'Delete a queue and the messages in it.',
    description: 'Deletes a queue and every message in it.',
    flags: [
      { name: 'if-unused', type: 'boolean', description: 'Refuse (409) while the queue has consumers.' },
      { name: 'if-empty', type: 'boolean', description: 'Refuse (409) while the queue holds messages.' },
    ],
    async run(context) {
      const { parsed } = context;
      const [name = ''] = expectPositionals('queues delete', parsed, ['name']);
      const query = new URLSearchParams();
      if (parsed.booleans.has('if-unused')) query.set('ifUnused', 'true');
      if (parsed.booleans.has('if-empty')) query.set('ifEmpty', 'true');
      const suffix = query.size > 0 ? `?${query.toString()}` : '';
      await context.client.request('DELETE', `/api/queues/${segment(name)}${suffix}`);
      return done(context, `Deleted queue ${name}.`, { deleted: name });
    },
  },
]);

const exchanges = resourceCommand('exchanges', 'List, create and delete exchanges.', [
  list('/api/exchanges', ['name', 'type', 'durable', 'auto-delete', 'internal'], (exchange) => [
    exchange['name'] === '' ? '(default)' : exchange['name'],
    exchange['type'],
    exchange['durable'],
    exchange['autoDelete'],
    exchange['internal'],
  ]),
  {
    name: 'create',
    usage: '<name> --type TYPE [--transient] [--auto-delete] [--internal] [--arg KEY=VALUE ...]',
    summary: 'Create an exchange (durable unless --transient); succeeds if it exists as given.',
    description: 'Declares an exchange. An existing one with other settings is a conflict (409).',
    flags: [
      { name: 'type', type: 'string', placeholder: 'TYPE', description: 'direct, fanout, topic or headers (required).' },
      { name: 'transient', type: 'boolean', description: 'Not durable: gone when the broker restarts.' },
      { name: 'auto-delete', type: 'boolean', description: 'Delete the exchange when its last binding goes.' },
      { name: 'internal', type: 'boolean', description: 'Clients cannot publish to it; only other exchanges route to it.' },
      argFlag,
    ],
    async run(context) {
      const { parsed, client } = context;
      const [name = ''] = expectPositionals('exchanges create', parsed, ['name']);
      const type = stringFlag(parsed, 'type');
      if (type === undefined) throw usageError('exchanges create: --type is required (direct, fanout, topic or headers)');
      const response = await client.request('PUT', `/api/exchanges/${segment(name)}`, {
        body: {
          type,
          durable: !parsed.booleans.has('transient'),
          autoDelete: parsed.booleans.has('auto-delete'),
          internal: parsed.booleans.has('internal'),
          arguments: pairsFlag(parsed, 'arg', true),
        },
      });
      return done(context, response.status === 201 ? `Created exchange ${name}.` : `Exchange ${name} exists already with these settings.`, {
        name,
        created: response.status === 201,
      });
    },
  },
  {
    name: 'delete',
    aliases: ['rm'],
    usage: '<name> [--if-unused]',
    summary: 'Delete an exchange and its bindings.',
    description: 'Deletes an exchange and every binding from or to it.',
    flags: [{ name: 'if-unused', type: 'boolean', description: 'Refuse (409) while the exchange has bindings.' }],
    async run(context) {
      const [name = ''] = expectPositionals('exchanges delete', context.parsed, ['name']);
      const suffix = context.parsed.booleans.has('if-unused') ? '?ifUnused=true' : '';
      await context.client.request('DELETE', `/api/exchanges/${segment(name)}${suffix}`);
      return done(context, `Deleted exchange ${name}.`, { deleted: name });
    },
  },
]);

const connections = resourceCommand('connections', 'List client connections and close them.', [
  list('/api/connections', ['id', 'protocol', 'user', 'client id', 'peer', 'connected at', 'channels'], (connection) => [
    connection['id'],
    connection['protocol'],
    connection['user'],
    connection['clientId'],
    connection['remoteAddress'],
    connection['connectedAt'],
    connection['channels'],
  ]),
  {
    name: 'delete',
    aliases: ['close'],
    usage: '<id>',
    summary: 'Close a connection (the client is told as its protocol does).',
    description: 'Closes a client connection: AMQP connection.close 320, MQTT 5 DISCONNECT 0x98, STOMP ERROR.',
    flags: [],
    async run(context) {
      const [id = ''] = expectPositionals('connections delete', context.parsed, ['id']);
      await context.client.request('DELETE', `/api/connections/${segment(id)}`);
      return done(context, `Closed connection ${id}.`, { closed: id });
    },
  },
]);

export const resourceCommands: readonly Command[] = [topics, services, queues, exchanges, connections];
