import { dataTable, h, Region, svg } from './dom.js';
import { formatCount } from './format.js';
import type { MountedPage, PageContext } from './page.js';
import { hrefOf } from './routes.js';
import { deriveTopology, layoutTopology, type LayoutEdge, type Topology } from './topology.js';
import type { Binding, Exchange, Queue, Service, Topic } from './types.js';

/** One row of the services table: a service's role for one topic. */
interface RoleRow {
  readonly service: string;
  readonly role: 'produces' | 'consumes';
  readonly topic: string;
  readonly queue?: string;
  readonly queueExists: boolean;
  readonly declared: boolean;
  readonly messagesReady: number;
  readonly consumers: number;
}

function roleRows(topology: Topology): RoleRow[] {
  const rows: RoleRow[] = [];
  for (const service of topology.services) {
    for (const production of service.produces) {
      rows.push({ service: service.name, role: 'produces', topic: production.topic, queueExists: false, declared: true, messagesReady: 0, consumers: 0 });
    }
    for (const entry of service.consumes) rows.push({ ...entry, role: 'consumes' });
  }
  return rows;
}

function summaryOf(topology: Topology): string {
  const parts: string[] = [];
  for (const service of topology.services) {
    if (service.produces.length > 0) parts.push(`${service.name} produces ${service.produces.map((entry) => entry.topic).join(', ')}`);
    if (service.consumes.length > 0) parts.push(`${service.name} consumes ${service.consumes.map((entry) => entry.topic).join(', ')}`);
  }
  return parts.length === 0 ? 'No service produces or consumes a topic yet.' : parts.join('; ');
}

function edgeTitle(edge: LayoutEdge): string {
  if (edge.kind === 'produces') return `${edge.production.service} produces ${edge.production.topic}`;
  const { subscription } = edge;
  return subscription.queueExists ? `${subscription.queue}: ${formatCount(subscription.messagesReady)} ready` : `${subscription.queue}: no queue yet (run courier apply)`;
}

function diagram(topology: Topology): SVGSVGElement {
  const layout = layoutTopology(topology);
  const { nodeWidth, nodeHeight } = layout;
  const summary = summaryOf(topology);
  return svg(
    'svg',
    { class: 'topology', viewBox: `0 0 ${layout.width} ${layout.height + 24}`, role: 'img', 'aria-label': `Topology: ${summary}` },
    svg('title', {}, `Topology: ${summary}`),
    svg('text', { class: 'column-title', x: 16, y: 14 }, 'Producing services'),
    svg('text', { class: 'column-title', x: layout.width / 2, y: 14, 'text-anchor': 'middle' }, 'Topics (amq.topic)'),
    svg('text', { class: 'column-title', x: layout.width - 16, y: 14, 'text-anchor': 'end' }, 'Consuming services'),
    svg(
      'g',
      { transform: 'translate(0 20)' },
      ...layout.edges.map((edge) => {
        const x1 = edge.from.x + nodeWidth;
        const y1 = edge.from.y + nodeHeight / 2;
        const x2 = edge.to.x;
        const y2 = edge.to.y + nodeHeight / 2;
        const middle = (x1 + x2) / 2;
        const missing = edge.kind === 'consumes' && !edge.subscription.queueExists;
        return svg(
          'g',
          { class: `edge ${edge.kind}${missing ? ' missing' : ''}` },
          // Queue names and depths are in the table below; on the picture they would overlap.
          svg('title', {}, edgeTitle(edge)),
          svg('path', { d: `M${x1} ${y1} C${middle} ${y1} ${middle} ${y2} ${x2} ${y2}` }),
        );
      }),
      ...layout.nodes.map((node) =>
        svg(
          'g',
          { class: `node ${node.kind}${node.role ? ` ${node.role}` : ''}` },
          svg('rect', { x: node.x, y: node.y, width: nodeWidth, height: nodeHeight, rx: 6 }),
          svg('text', { x: node.x + nodeWidth / 2, y: node.y + nodeHeight / 2 + 5, 'text-anchor': 'middle' }, node.label),
        ),
      ),
    ),
  );
}

export function topologyPage(context: PageContext): MountedPage {
  const { api } = context;
  const picture = new Region(h('div', { class: 'diagram' }));
  const services = new Region(h('div'));
  const exchanges = new Region(h('div'));
  const bindings = new Region(h('div'));
  const element = h(
    'section',
    { 'aria-labelledby': 'page-heading' },
    h('h1', { id: 'page-heading', tabindex: -1 }, 'Topology'),
    h(
      'p',
      { class: 'hint' },
      'Which service produces and which consumes each topic: the services courier apply declared (produces and consumes in courier.yaml), ' +
        'plus consumers found through their queues, named {service}.{topic} and bound to amq.topic.',
    ),
    picture.element,
    h('h2', {}, 'Services'),
    services.element,
    h('h2', {}, 'Exchanges'),
    exchanges.element,
    h('h2', {}, 'Bindings'),
    bindings.element,
  );
  const refresh = async (): Promise<void> => {
    const [topicList, queueList, bindingList, exchangeList, serviceList] = await Promise.all([
      api.get<Topic[]>('/api/topics'),
      api.get<Queue[]>('/api/queues'),
      api.get<Binding[]>('/api/bindings'),
      api.get<Exchange[]>('/api/exchanges'),
      api.get<Service[]>('/api/services'),
    ]);
    const topology = deriveTopology(topicList, queueList, bindingList, serviceList);
    const rows = roleRows(topology);
    picture.show(topology, () => diagram(topology));
    services.show(rows, () =>
      dataTable(
        'Services and their topics',
        [
          { header: 'Service', cell: (entry: RoleRow) => entry.service },
          { header: 'Role', cell: (entry) => (entry.declared ? entry.role : `${entry.role} (queue only, not declared)`) },
          { header: 'Topic', cell: (entry) => h('code', {}, entry.topic) },
          {
            header: 'Through queue',
            cell: (entry) =>
              entry.role === 'produces' || entry.queue === undefined
                ? ''
                : entry.queueExists
                  ? h('a', { href: hrefOf('queues', entry.queue) }, entry.queue)
                  : `${entry.queue} (missing: run courier apply)`,
          },
          { header: 'Ready', cell: (entry) => (entry.queueExists ? formatCount(entry.messagesReady) : ''), numeric: true },
          { header: 'Consumers', cell: (entry) => (entry.queueExists ? formatCount(entry.consumers) : ''), numeric: true },
        ],
        rows,
        'No services yet. Declare services in courier.yaml (produces, consumes) and run courier apply.',
      ),
    );
    const sortedExchanges = [...exchangeList].sort((a, b) => (a.name < b.name ? -1 : 1));
    exchanges.show(sortedExchanges, () =>
      dataTable(
        'Exchanges',
        [
          { header: 'Name', cell: (exchange: Exchange) => (exchange.name === '' ? '(default)' : exchange.name) },
          { header: 'Type', cell: (exchange) => exchange.type },
          { header: 'Durable', cell: (exchange) => (exchange.durable ? 'yes' : 'no') },
          { header: 'Internal', cell: (exchange) => (exchange.internal ? 'yes' : 'no') },
        ],
        sortedExchanges,
        'No exchanges.',
      ),
    );
    bindings.show(bindingList, () =>
      dataTable(
        'Bindings',
        [
          { header: 'Source exchange', cell: (binding: Binding) => (binding.source === '' ? '(default)' : binding.source) },
          { header: 'Routing key', cell: (binding) => h('code', {}, binding.routingKey === '' ? '(empty)' : binding.routingKey) },
          { header: 'Destination', cell: (binding) => `${binding.destinationKind} ${binding.destination}` },
        ],
        bindingList,
        'No bindings.',
      ),
    );
  };
  return { title: 'Topology', element, refresh };
}
