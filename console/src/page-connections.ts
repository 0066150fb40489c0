import { dataTable, errorText, h, messageArea, Region } from './dom.js';
import { formatCount, formatRate } from './format.js';
import type { MountedPage, PageContext } from './page.js';
import type { ConnectionInfo } from './types.js';

export function connectionsPage(context: PageContext): MountedPage {
  const { api } = context;
  const list = new Region(h('div'));
  const outcome = messageArea();

  const close = async (connection: ConnectionInfo): Promise<void> => {
    const who = `connection ${connection.id} (${connection.protocol}${connection.clientId ? `, ${connection.clientId}` : ''}, ${connection.user} from ${connection.remoteAddress})`;
    if (!window.confirm(`Close ${who}? The client is told as its protocol does and may reconnect.`)) return;
    try {
      await api.send('DELETE', `/api/connections/${encodeURIComponent(String(connection.id))}`);
      outcome.ok(`Closed ${who}.`);
      context.announce(`Closed connection ${connection.id}`);
      await refresh();
    } catch (error) {
      outcome.error(`Could not close ${who}. ${errorText(error)}`);
    }
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'page-heading' },
    h('h1', { id: 'page-heading', tabindex: -1 }, 'Connections'),
    h('p', { class: 'hint' }, 'Client connections of every protocol, including the HTTP API’s own. Rates are the broker’s, sampled every 5 seconds.'),
    outcome.element,
    list.element,
  );
  const refresh = async (): Promise<void> => {
    const connections = await api.get<ConnectionInfo[]>('/api/connections');
    list.show(connections, () =>
      dataTable(
        'Connections',
        [
          { header: 'ID', cell: (connection: ConnectionInfo) => String(connection.id) },
          { header: 'Protocol', cell: (connection) => connection.protocol },
          { header: 'Client ID', cell: (connection) => connection.clientId ?? '—' },
          { header: 'User', cell: (connection) => connection.user },
          { header: 'Address', cell: (connection) => connection.remoteAddress },
          { header: 'Connected', cell: (connection) => h('time', { datetime: connection.connectedAt }, new Date(connection.connectedAt).toLocaleString()) },
          { header: 'Channels', cell: (connection) => formatCount(connection.channels), numeric: true },
          { header: 'Publish', cell: (connection) => formatRate(connection.rates.publish), numeric: true },
          { header: 'Deliver', cell: (connection) => formatRate(connection.rates.deliver), numeric: true },
          {
            header: 'Action',
            cell: (connection) =>
              h('button', { type: 'button', 'aria-label': `Close connection ${connection.id}`, onclick: () => void close(connection) }, 'Close'),
          },
        ],
        connections,
        'No client is connected.',
      ),
    );
  };
  return { title: 'Connections', element, refresh };
}
