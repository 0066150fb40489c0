/**
 * The Courier web console: a single page served at `/`, hash-routed, that only calls the REST API under
 * /api (docs/management.md#console). Built by console/tsconfig.json into dist/console/.
 */
import { ApiClient, GUEST, type Credentials } from './api-client.js';
import { errorText, field, h, messageArea } from './dom.js';
import { OverviewFeed } from './overview-feed.js';
import type { MountedPage, PageContext } from './page.js';
import { connectionsPage } from './page-connections.js';
import { deadLettersPage } from './page-dead-letters.js';
import { overviewPage } from './page-overview.js';
import { queuePage, queuesPage } from './page-queues.js';
import { topicsPage } from './page-topics.js';
import { topologyPage } from './page-topology.js';
import { ApiError } from './problem.js';
import { hrefOf, parseRoute, type PageName } from './routes.js';

const POLL_MS = 3000;
const WINDOW_MS = 5 * 60_000;
const CREDENTIALS_KEY = 'courier.console.credentials';

const NAV: readonly [PageName, string][] = [
  ['overview', 'Overview'],
  ['topics', 'Topics'],
  ['queues', 'Queues'],
  ['dead-letters', 'Dead letters'],
  ['connections', 'Connections'],
  ['topology', 'Topology'],
];

function storedCredentials(): Credentials {
  try {
    const raw = sessionStorage.getItem(CREDENTIALS_KEY);
    const parsed = raw === null ? undefined : (JSON.parse(raw) as Partial<Credentials>);
    if (typeof parsed?.username === 'string' && typeof parsed.password === 'string') return { username: parsed.username, password: parsed.password };
  } catch {
    // Storage unavailable or garbled: fall back to guest.
  }
  return GUEST;
}

function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.problem.status === 401;
}

function start(root: HTMLElement): void {
  const api = new ApiClient(storedCredentials());
  const feed = new OverviewFeed(api, WINDOW_MS);
  const live = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const context: PageContext = {
    api,
    feed,
    announce: (message) => {
      live.textContent = message;
    },
  };

  // Header: who is signed in, and a way to change it.
  const userLabel = h('span', { class: 'user', 'data-testid': 'current-user' });
  const signInButton = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': 'sign-in' }, 'Change user');
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password' });
  const signInMessage = messageArea();
  const signInForm = h(
    'form',
    { id: 'sign-in', class: 'sign-in', 'aria-labelledby': 'sign-in-heading', hidden: true },
    h('h2', { id: 'sign-in-heading' }, 'Sign in to the management API'),
    h('p', { class: 'hint' }, 'HTTP Basic credentials of a Courier user. guest / guest works from the broker’s own machine (loopback) only.'),
    field('User name', username),
    field('Password', password),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in'), h('button', { type: 'button', onclick: () => hideSignIn() }, 'Cancel')),
    signInMessage.element,
  );
  const showSignIn = (reason?: string): void => {
    signInForm.hidden = false;
    signInButton.setAttribute('aria-expanded', 'true');
    username.value = api.user;
    if (reason === undefined) signInMessage.clear();
    else signInMessage.error(reason);
    username.focus();
  };
  const hideSignIn = (): void => {
    signInForm.hidden = true;
    signInButton.setAttribute('aria-expanded', 'false');
  };
  signInButton.addEventListener('click', () => (signInForm.hidden ? showSignIn() : hideSignIn()));
  signInForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const credentials = { username: username.value, password: password.value };
    const trial = new ApiClient(credentials);
    trial.get('/api/overview').then(
      () => {
        api.setCredentials(credentials);
        try {
          sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify(credentials));
        } catch {
          // Private mode without storage: the credentials last until the tab reloads.
        }
        password.value = '';
        hideSignIn();
        userLabel.textContent = `Signed in as ${credentials.username}`;
        context.announce(`Signed in as ${credentials.username}`);
        void tick();
      },
      (error: unknown) => {
        signInMessage.error(`Not signed in. ${errorText(error)}`);
        password.focus();
      },
    );
  });
  userLabel.textContent = `Signed in as ${api.user}`;

  const navLinks = new Map<PageName, HTMLAnchorElement>();
  const nav = h(
    'nav',
    { 'aria-label': 'Console pages' },
    h(
      'ul',
      {},
      ...NAV.map(([page, label]) => {
        const link = h('a', { href: hrefOf(page) }, label);
        navLinks.set(page, link);
        return h('li', {}, link);
      }),
    ),
  );
  const pageError = h('div', { class: 'page-error', 'aria-live': 'assertive' });
  const main = h('main', { id: 'main' });
  root.replaceChildren(
    h('a', { class: 'skip', href: '#main', onclick: (event: Event) => { event.preventDefault(); main.querySelector('h1')?.focus(); } }, 'Skip to content'),
    h('header', { class: 'top' }, h('p', { class: 'brand' }, 'Courier'), nav, h('div', { class: 'who' }, userLabel, signInButton)),
    signInForm,
    pageError,
    main,
    live,
  );

  let current: MountedPage | undefined;
  let busy = false;
  const showError = (error: unknown): void => {
    if (isUnauthorized(error)) {
      pageError.replaceChildren(h('p', { class: 'error', role: 'alert' }, `The broker refused the credentials of ${api.user}. Sign in below.`));
      if (signInForm.hidden) showSignIn(errorText(error));
      return;
    }
    pageError.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load this page. ${errorText(error)}`));
  };
  const tick = async (): Promise<void> => {
    if (busy || !current) return;
    busy = true;
    const page = current;
    try {
      await Promise.all([page === current ? page.refresh() : undefined, feed.poll()]);
      if (page === current) pageError.replaceChildren();
    } catch (error) {
      if (page === current) showError(error);
    } finally {
      busy = false;
    }
  };

  const mount = (): void => {
    const route = parseRoute(location.hash);
    current?.dispose?.();
    let page: MountedPage;
    switch (route.page) {
      case 'overview':
        page = overviewPage(context);
        break;
      case 'topics':
        page = topicsPage(context);
        break;
      case 'queues':
        page = route.argument === undefined ? queuesPage(context) : queuePage(context, route.argument);
        break;
      case 'dead-letters':
        page = deadLettersPage(context);
        break;
      case 'connections':
        page = connectionsPage(context);
        break;
      case 'topology':
        page = topologyPage(context);
        break;
      case 'not-found':
        page = {
          title: 'Not found',
          element: h('section', {}, h('h1', { tabindex: -1 }, 'No such page'), h('p', {}, h('a', { href: hrefOf('overview') }, 'Go to the overview'))),
          refresh: () => Promise.resolve(),
        };
        break;
    }
    current = page;
    for (const [name, link] of navLinks) {
      if (name === route.page) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    pageError.replaceChildren();
    main.replaceChildren(page.element);
    document.title = `${page.title} · Courier`;
    page.element.querySelector('h1')?.focus();
    busy = false;
    void tick();
  };

  window.addEventListener('hashchange', mount);
  setInterval(() => void tick(), POLL_MS);
  mount();
}

const root = document.getElementById('app');
if (root) start(root);
