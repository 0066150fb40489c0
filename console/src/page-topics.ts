import { dataTable, errorText, field, h, messageArea, Region, type Child } from './dom.js';
import { formatBytes, formatDuration } from './format.js';
import type { MountedPage, PageContext } from './page.js';
import { hrefOf } from './routes.js';
import { deriveTopology } from './topology.js';
import type { Binding, Queue, Service, Topic } from './types.js';

function retentionText(topic: Topic): string {
  if (!topic.retention) return 'no';
  const parts: string[] = [];
  if (topic.retention.maxAgeMs !== undefined) parts.push(`up to ${formatDuration(topic.retention.maxAgeMs / 1000)}`);
  if (topic.retention.maxBytes !== undefined) parts.push(`up to ${formatBytes(topic.retention.maxBytes)}`);
  return parts.length === 0 ? 'yes, all of it' : `yes, ${parts.join(', ')}`;
}

export function topicsPage(context: PageContext): MountedPage {
  const { api } = context;
  const list = new Region(h('div'));
  let topicNames: string[] = [];

  // Create a topic.
  const name = h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false', pattern: '[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9_\\-]+)*' });
  const displayName = h('input', { name: 'displayName', autocomplete: 'off' });
  const description = h('textarea', { name: 'description', rows: 2 });
  const keepHistory = h('input', { type: 'checkbox', name: 'keepHistory', id: 'keep-history' });
  const createMessage = messageArea();
  const createForm = h(
    'form',
    { 'aria-labelledby': 'create-topic-heading', novalidate: true },
    h('h2', { id: 'create-topic-heading' }, 'Create a topic'),
    field('Name', name, "A routing key: letters, digits, '-' and '_', with '.' between levels, e.g. orders.created"),
    field('Display name', displayName, 'Shown to people; defaults to the name'),
    field('Description', description),
    h('div', { class: 'field checkbox' }, keepHistory, h('label', { for: 'keep-history' }, 'Keep history in a stream (for replay)')),
    h('button', { type: 'submit' }, 'Create topic'),
    createMessage.element,
  );
  createForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      name: name.value.trim(),
      ...(displayName.value.trim() === '' ? {} : { displayName: displayName.value.trim() }),
      ...(description.value.trim() === '' ? {} : { description: description.value.trim() }),
      ...(keepHistory.checked ? { retention: {} } : {}),
    };
    if (body.name === '') {
      createMessage.error('Give the topic a name.');
      name.focus();
      return;
    }
    createMessage.clear();
    api.send<Topic>('POST', '/api/topics', { body }).then(
      async (topic) => {
        createMessage.ok(`Topic ${topic.name} (${topic.displayName}) is saved.`);
        context.announce(`Topic ${topic.name} saved`);
        createForm.reset();
        await refresh();
      },
      (error: unknown) => {
        createMessage.error(`The topic was not created. ${errorText(error)}`);
        name.focus();
      },
    );
  });

  // Publish a test message.
  const topicSelect = h('select', { name: 'topic', required: true });
  const payload = h('textarea', { name: 'body', rows: 3 });
  payload.value = '{"hello": "world"}';
  const contentType = h('select', { name: 'contentType' }, h('option', { value: 'application/json' }, 'application/json'), h('option', { value: 'text/plain' }, 'text/plain'));
  const publishMessage = messageArea();
  const publishForm = h(
    'form',
    { 'aria-labelledby': 'publish-heading' },
    h('h2', { id: 'publish-heading' }, 'Publish a test message'),
    h('p', { class: 'hint' }, 'Sent to amq.topic with the topic as routing key, as any producer would (POST /api/topics/{topic}/messages).'),
    field('Topic', topicSelect),
    field('Body', payload),
    field('Content type', contentType),
    h('button', { type: 'submit' }, 'Publish'),
    publishMessage.element,
  );
  publishForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const topic = topicSelect.value;
    if (topic === '') {
      publishMessage.error('Create a topic first.');
      return;
    }
    api
      .send<{ routed: number }>('POST', `/api/topics/${encodeURIComponent(topic)}/messages`, { rawBody: payload.value, contentType: contentType.value })
      .then(
        async (result) => {
          publishMessage.ok(
            result.routed === 0
              ? `Published to ${topic}, but no queue is bound to it: nothing was stored.`
              : `Published to ${topic}: stored in ${result.routed} queue${result.routed === 1 ? '' : 's'}.`,
          );
          await refresh();
        },
        (error: unknown) => publishMessage.error(`The message was not published. ${errorText(error)}`),
      );
  });

  const element = h(
    'section',
    { 'aria-labelledby': 'page-heading' },
    h('h1', { id: 'page-heading', tabindex: -1 }, 'Topics'),
    h(
      'p',
      { class: 'hint' },
      'Topics are routing keys in amq.topic with a name people can read. Producing and consuming services are those courier apply declared; a service with a {service}.{topic} queue bound to the topic consumes it too.',
    ),
    list.element,
    h('div', { class: 'forms' }, createForm, publishForm),
  );

  const refresh = async (): Promise<void> => {
    const [topics, queues, bindings, services] = await Promise.all([
      api.get<Topic[]>('/api/topics'),
      api.get<Queue[]>('/api/queues'),
      api.get<Binding[]>('/api/bindings'),
      api.get<Service[]>('/api/services'),
    ]);
    const topology = deriveTopology(topics, queues, bindings, services);
    const consumers = new Map(topology.topics.map((topic) => [topic.name, topic.consumers]));
    const producers = new Map(topology.topics.map((topic) => [topic.name, topic.producers]));
    const sorted = [...topics].sort((a, b) => (a.name < b.name ? -1 : 1));
    const servicesCell = (names: readonly string[]): Child => (names.length === 0 ? 'none' : h('a', { href: hrefOf('topology') }, names.join(', ')));
    list.show({ sorted, consumers: [...consumers], producers: [...producers] }, () =>
      dataTable(
        'Topics',
        [
          { header: 'Name', cell: (topic: Topic) => h('code', {}, topic.name) },
          { header: 'Display name', cell: (topic) => topic.displayName },
          { header: 'Description', cell: (topic) => topic.description || '—' },
          { header: 'Keeps history', cell: (topic) => retentionText(topic) },
          { header: 'Producing services', cell: (topic) => servicesCell(producers.get(topic.name) ?? []) },
          { header: 'Consuming services', cell: (topic) => servicesCell(consumers.get(topic.name) ?? []) },
          { header: 'Created', cell: (topic) => h('time', { datetime: topic.createdAt }, new Date(topic.createdAt).toLocaleString()) },
        ],
        sorted,
        'No topics yet: create one below.',
      ),
    );
    const names = sorted.map((topic) => topic.name);
    if (names.join('\n') !== topicNames.join('\n')) {
      const selected = topicSelect.value;
      topicNames = names;
      topicSelect.replaceChildren(...names.map((topic) => h('option', { value: topic, selected: topic === selected }, topic)));
    }
  };
  return { title: 'Topics', element, refresh };
}
