import { linePath, niceMax, ticks, type PlotArea } from './chart-geometry.js';
import { svg } from './dom.js';
import { formatRate } from './format.js';
import type { RatePoint } from './rate-series.js';

export interface RateChartOptions {
  readonly title: string;
  readonly points: readonly RatePoint[];
  readonly pick: (point: RatePoint) => number;
  readonly windowMs: number;
  /** The right edge of the chart (ms); the window ends here. */
  readonly now: number;
  /** A CSS class giving the line its colour. */
  readonly lineClass: string;
}

const WIDTH = 480;
const HEIGHT = 200;
const AREA: PlotArea = { left: 52, top: 12, width: WIDTH - 52 - 12, height: HEIGHT - 12 - 28 };

/**
 * An SVG line chart of one rate over the rolling window. It is an image to assistive technology, named
 * by its title and latest value; the numbers themselves are also on the page as text.
 */
export function rateChart(options: RateChartOptions): SVGSVGElement {
  const values = options.points.map(options.pick);
  const latest = values[values.length - 1];
  const yMax = niceMax(Math.max(0, ...values));
  const domain = { xMin: options.now - options.windowMs, xMax: options.now, yMax };
  const label = `${options.title} over the last ${Math.round(options.windowMs / 60_000)} minutes; ${
    latest === undefined ? 'no data yet' : `now ${formatRate(latest)}, highest ${formatRate(Math.max(...values))}`
  }`;
  const grid = ticks(yMax).map((value) => {
    const y = AREA.top + AREA.height - (value / yMax) * AREA.height;
    return svg(
      'g',
      { class: 'tick' },
      svg('line', { x1: AREA.left, x2: AREA.left + AREA.width, y1: y, y2: y }),
      svg('text', { x: AREA.left - 6, y: y + 4, 'text-anchor': 'end' }, formatRate(value)),
    );
  });
  const path = linePath(
    options.points.map((point) => ({ x: point.at, y: options.pick(point) })),
    AREA,
    domain,
  );
  const minutes = Math.round(options.windowMs / 60_000);
  return svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'xMidYMid meet' },
    svg('title', {}, label),
    ...grid,
    svg('text', { class: 'axis', x: AREA.left, y: HEIGHT - 8 }, `-${minutes} min`),
    svg('text', { class: 'axis', x: AREA.left + AREA.width, y: HEIGHT - 8, 'text-anchor': 'end' }, 'now'),
    path === '' ? null : svg('path', { class: `line ${options.lineClass}`, d: path }),
  );
}
