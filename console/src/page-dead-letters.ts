import { deadLetterQueues, reasonCounts } from './dead-letters.js';
import { errorText, h, messageArea, Region } from './dom.js';
import { formatCount } from './format.js';
import { messageList } from './message-list.js';
import type { MountedPage, PageContext } from './page.js';
import { hrefOf } from './routes.js';
import type { Binding, PeekedMessage, Queue } from './types.js';

/** How many messages of each dead-letter queue are peeked to show reasons. */
const PEEK = 20;
/** Dead-letter queues shown (each is peeked on every refresh). */
const MAX_QUEUES = 20;

interface Section {
  readonly region: Region;
  readonly message: ReturnType<typeof messageArea>;
  readonly element: HTMLElement;
}

export function deadLettersPage(context: PageContext): MountedPage {
  const { api } = context;
  const summary = new Region(h('div'));
  const container = h('div', { class: 'dlq-list' });
  const sections = new Map<string, Section>();

  const redrive = async (queue: string, section: Section, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    section.message.clear();
    try {
      const result = await api.send<{ moved: number; skipped: number }>('POST', `/api/queues/${encodeURIComponent(queue)}/redrive`, { body: {} });
      const text = `Redrive of ${queue}: moved ${result.moved} message${result.moved === 1 ? '' : 's'} back, ${result.skipped} skipped.`;
      section.message.ok(text);
      context.announce(text);
      await refresh();
    } catch (error) {
      section.message.error(`The redrive failed. ${errorText(error)}`);
    } finally {
      button.disabled = false;
    }
  };

  const sectionFor = (queue: string): Section => {
    const existing = sections.get(queue);
    if (existing) return existing;
    const headingId = `dlq-${sections.size}`;
    const region = new Region(h('div'));
    const message = messageArea();
    const button = h('button', { type: 'button', class: 'primary' }, `Redrive ${queue}`);
    const section: Section = {
      region,
      message,
      element: h(
        'section',
        { class: 'dlq', 'aria-labelledby': headingId },
        h('h2', { id: headingId }, h('a', { href: hrefOf('queues', queue) }, queue)),
        region.element,
        h('div', { class: 'actions' }, button),
        message.element,
      ),
    };
    button.addEventListener('click', () => void redrive(queue, section, button));
    sections.set(queue, section);
    return section;
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'page-heading' },
    h('h1', { id: 'page-heading', tabindex: -1 }, 'Dead letters'),
    h(
      'p',
      { class: 'hint' },
      'Queues that receive dead letters: those named by another queue’s x-dead-letter-exchange and x-dead-letter-routing-key, or named like a dead-letter queue. ' +
        'Redrive publishes each message back to the exchange and routing key of its latest x-death entry, and removes it here once it is stored there.',
    ),
    summary.element,
    container,
  );

  const refresh = async (): Promise<void> => {
    const [queues, bindings] = await Promise.all([api.get<Queue[]>('/api/queues'), api.get<Binding[]>('/api/bindings')]);
    const names = deadLetterQueues(queues, bindings).slice(0, MAX_QUEUES);
    const byName = new Map(queues.map((queue) => [queue.name, queue]));
    const peeked = await Promise.all(
      names.map(async (name) => {
        const queue = byName.get(name);
        if (!queue || queue.messagesReady === 0) return { name, queue, messages: [] as PeekedMessage[] };
        const { messages } = await api.get<{ messages: PeekedMessage[] }>(`/api/queues/${encodeURIComponent(name)}/peek?max=${PEEK}`);
        return { name, queue, messages };
      }),
    );
    const total = peeked.reduce((sum, entry) => sum + (entry.queue?.messagesReady ?? 0), 0);
    summary.show({ names, total }, () =>
      names.length === 0
        ? h('p', { class: 'empty' }, 'No dead-letter queues: no queue has an x-dead-letter-exchange argument and none is named like one (…dlq, …dead-letters).')
        : h('p', { role: 'status' }, `${formatCount(total)} dead letter${total === 1 ? '' : 's'} in ${names.length} queue${names.length === 1 ? '' : 's'}.`),
    );
    const shown: HTMLElement[] = [];
    for (const { name, queue, messages } of peeked) {
      const section = sectionFor(name);
      const ready = queue?.messagesReady ?? 0;
      const reasons = reasonCounts(messages);
      section.region.show({ ready, messages }, () => [
        h(
          'p',
          {},
          `${formatCount(ready)} ready message${ready === 1 ? '' : 's'}`,
          ready > messages.length && messages.length > 0 ? ` (the first ${messages.length} are shown)` : '',
          '.',
        ),
        reasons.length === 0
          ? null
          : h(
              'ul',
              { class: 'reasons', 'aria-label': `Reasons in ${name}` },
              ...reasons.map(([reason, count]) => h('li', {}, h('strong', {}, reason), `: ${count}`)),
            ),
        messages.length === 0 ? null : h('details', {}, h('summary', {}, 'Messages'), messageList(messages, `Dead letters in ${name}`)),
      ]);
      shown.push(section.element);
    }
    const current = [...container.children];
    if (current.length !== shown.length || current.some((child, index) => child !== shown[index])) container.replaceChildren(...shown);
  };
  return { title: 'Dead letters', element, refresh };
}
