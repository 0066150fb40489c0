/** A few helpers for building the console's DOM without a framework. */

export type Child = Node | string | number | null | undefined | false;
type AttributeValue = string | number | boolean | undefined | ((event: Event) => void);
export type Attributes = Readonly<Record<string, AttributeValue>>;

function apply(element: Element, attributes: Attributes, children: readonly Child[]): void {
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(key.replace(/^on/, ''), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'object' ? child : String(child));
  }
}

/** `h('button', { type: 'button', onclick: ... }, 'Save')`; `on*` keys add listeners, `class` is the class. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attributes, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  apply(element, attributes, children);
  return element;
}

/**
 * A part of a page that is redrawn only when its data changed: polling every few seconds must not move
 * focus out of a table or make a screen reader start over when nothing happened.
 */
export class Region {
  private key: string | undefined;

  constructor(readonly element: HTMLElement) {}

  show(data: unknown, render: () => Child | Child[]): void {
    const key = JSON.stringify(data);
    if (key === this.key) return;
    this.key = key;
    const content = render();
    this.element.replaceChildren();
    apply(this.element, {}, Array.isArray(content) ? content : [content]);
  }

  /** Forces the next `show` to redraw. */
  invalidate(): void {
    this.key = undefined;
  }
}

export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => Child;
  readonly numeric?: boolean;
}

/** A table with a caption and column headers (th scope=col); the first column heads its row. */
export function dataTable<T>(caption: string, columns: readonly Column<T>[], rows: readonly T[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...columns.map((column) => h('th', { scope: 'col', class: column.numeric ? 'num' : undefined }, column.header)))),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h(
          'tr',
          {},
          ...columns.map((column, index) =>
            index === 0 ? h('th', { scope: 'row' }, column.cell(row)) : h('td', { class: column.numeric ? 'num' : undefined }, column.cell(row)),
          ),
        ),
      ),
    ),
  );
}

/** A labelled form field: `<label for>` + control, wrapped for layout. */
export function field(label: string, control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, hint?: string): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  control.id = id;
  const hintElement = hint === undefined ? undefined : h('small', { id: `${id}-hint`, class: 'hint' }, hint);
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintElement);
}

/** A message area for a form or page: role=alert for errors, role=status for outcomes. */
export function messageArea(): { element: HTMLElement; error(text: string): void; ok(text: string): void; clear(): void } {
  const element = h('div', { class: 'message', 'aria-live': 'polite' });
  return {
    element,
    error(text) {
      element.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
    },
    ok(text) {
      element.replaceChildren(h('p', { class: 'ok', role: 'status' }, text));
    },
    clear() {
      element.replaceChildren();
    },
  };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
