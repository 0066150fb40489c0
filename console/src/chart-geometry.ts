/** Scales and SVG path data for the console's line charts; pure, so it is unit-tested in Node. */

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface PlotArea {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface Domain {
  readonly xMin: number;
  readonly xMax: number;
  readonly yMax: number;
}

/** The smallest 1, 2 or 5 times a power of ten that is >= value (1 for 0 or less): a readable axis top. */
export function niceMax(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    const candidate = step * power;
    // Float noise: 3 * 0.1 is 0.30000000000000004, which must still fit under 0.5.
    if (candidate >= value * (1 - 1e-12)) return Number(candidate.toPrecision(12));
  }
  return 10 * power;
}

/**
 * Evenly spaced axis values from 0 to max, inclusive. By default the step is itself round for a
 * {@link niceMax} top: 1 -> 0.2, 2 -> 0.5, 5 -> 1 (times a power of ten).
 */
export function ticks(max: number, count = defaultTickCount(max)): number[] {
  const values: number[] = [];
  for (let index = 0; index <= count; index++) values.push(Number(((max * index) / count).toPrecision(12)));
  return values;
}

function defaultTickCount(max: number): number {
  const leading = Math.round(max / 10 ** Math.floor(Math.log10(max)));
  return leading === 2 ? 4 : 5;
}

/** Maps data points into the plot area (y grows downwards in SVG) and returns `M x y L x y ...`. */
export function linePath(points: readonly Point[], area: PlotArea, domain: Domain): string {
  const spanX = domain.xMax - domain.xMin || 1;
  const spanY = domain.yMax || 1;
  const parts: string[] = [];
  for (const point of points) {
    const x = area.left + ((point.x - domain.xMin) / spanX) * area.width;
    const clamped = Math.min(Math.max(point.y, 0), spanY);
    const y = area.top + area.height - (clamped / spanY) * area.height;
    parts.push(`${parts.length === 0 ? 'M' : 'L'}${round(x)} ${round(y)}`);
  }
  return parts.join(' ');
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
