import { dataTable, errorText, field, h, messageArea, Region } from './dom.js';
import { formatCount, formatRate } from './format.js';
import { messageList } from './message-list.js';
import type { MountedPage, PageContext } from './page.js';
import { hrefOf } from './routes.js';
import type { PeekedMessage, Queue } from './types.js';

function deadLetterTarget(queue: Queue): string {
  const exchange = queue.arguments['x-dead-letter-exchange'];
  if (typeof exchange !== 'string') return '—';
  const key = queue.arguments['x-dead-letter-routing-key'];
  return `${exchange === '' ? '(default exchange)' : exchange}${typeof key === 'string' ? ` → ${key}` : ''}`;
}

export function queuesPage(context: PageContext): MountedPage {
  const { api } = context;
  const list = new Region(h('div'));
  const element = h(
    'section',
    { 'aria-labelledby': 'page-heading' },
    h('h1', { id: 'page-heading', tabindex: -1 }, 'Queues'),
    h('p', { class: 'hint' }, 'Select a queue to browse its messages. Rates are the broker’s, sampled every 5 seconds.'),
    list.element,
  );
  const refresh = async (): Promise<void> => {
    const queues = await api.get<Queue[]>('/api/queues');
    const sorted = [...queues].sort((a, b) => (a.name < b.name ? -1 : 1));
    list.show(sorted, () =>
      dataTable(
        'Queues',
        [
          { header: 'Name', cell: (queue: Queue) => h('a', { href: hrefOf('queues', queue.name) }, queue.name) },
          { header: 'Type', cell: (queue) => queue.type },
          { header: 'Ready', cell: (queue) => formatCount(queue.messagesReady), numeric: true },
          { header: 'Unacked', cell: (queue) => formatCount(queue.messagesUnacked), numeric: true },
          { header: 'Consumers', cell: (queue) => formatCount(queue.consumers), numeric: true },
          { header: 'Publish', cell: (queue) => formatRate(queue.rates.publish), numeric: true },
          { header: 'Deliver', cell: (queue) => formatRate(queue.rates.deliver), numeric: true },
          { header: 'Ack', cell: (queue) => formatRate(queue.rates.ack ?? 0), numeric: true },
          { header: 'Dead letters go to', cell: deadLetterTarget },
        ],
        sorted,
        'No queues yet.',
      ),
    );
  };
  return { title: 'Queues', element, refresh };
}

/** One queue: its numbers and a message browser that peeks (nothing is consumed, locked or settled). */
export function queuePage(context: PageContext, name: string): MountedPage {
  const { api } = context;
  const path = `/api/queues/${encodeURIComponent(name)}`;
  const stats = new Region(h('div'));
  const browser = new Region(h('div'));
  const count = h('input', { type: 'number', min: 1, max: 100, value: 10, name: 'max', inputmode: 'numeric' });
  const browseMessage = messageArea();
  const peek = async (): Promise<void> => {
    const max = Math.min(100, Math.max(1, Math.floor(Number(count.value) || 10)));
    try {
      const { messages } = await api.get<{ messages: PeekedMessage[] }>(`${path}/peek?max=${max}`);
      browseMessage.ok(`Showing the first ${messages.length} ready message${messages.length === 1 ? '' : 's'}.`);
      browser.invalidate();
      browser.show(messages, () => messageList(messages, `Messages in ${name}`));
    } catch (error) {
      browseMessage.error(`Could not peek. ${errorText(error)}`);
    }
  };
  const form = h(
    'form',
    { 'aria-labelledby': 'browser-heading', class: 'inline' },
    field('How many', count, '1 to 100'),
    h('button', { type: 'submit' }, 'Peek messages'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void peek();
  });
  const element = h(
    'section',
    { 'aria-labelledby': 'page-heading' },
    h('p', {}, h('a', { href: hrefOf('queues') }, '← All queues')),
    h('h1', { id: 'page-heading', tabindex: -1 }, `Queue ${name}`),
    stats.element,
    h('h2', { id: 'browser-heading' }, 'Message browser'),
    h('p', { class: 'hint' }, 'Peeking shows the next ready messages in delivery order without consuming, locking or settling them.'),
    form,
    browseMessage.element,
    browser.element,
  );
  const refresh = async (): Promise<void> => {
    const queue = await api.get<Queue>(path);
    stats.show(queue, () =>
      h(
        'dl',
        { class: 'stat-grid' },
        ...(
          [
            ['Type', queue.type],
            ['Ready', formatCount(queue.messagesReady)],
            ['Unacked', formatCount(queue.messagesUnacked)],
            ['Consumers', formatCount(queue.consumers)],
            ['Publish rate', formatRate(queue.rates.publish)],
            ['Deliver rate', formatRate(queue.rates.deliver)],
            ['Durable', queue.durable ? 'yes' : 'no'],
            ['Dead letters go to', deadLetterTarget(queue)],
          ] as const
        ).map(([label, value]) => h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value))),
      ),
    );
  };
  let first = true;
  return {
    title: `Queue ${name}`,
    element,
    refresh: async () => {
      await refresh();
      if (first) {
        first = false;
        await peek();
      }
    },
  };
}
