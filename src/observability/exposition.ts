/**
 * Pieces of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): name rules, escaping
 * and number formatting. Pure functions; the registry decides what to write.
 */
import type { MetricLabels } from '../core/ports.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

const INVALID_METRIC_NAME_CHARS = /[^a-zA-Z0-9_:]/g;
const INVALID_LABEL_NAME_CHARS = /[^a-zA-Z0-9_]/g;
const VALID_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_VALUE_SPECIALS = /[\\"\n]/;

/** A valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`): invalid characters become `_`. */
export function sanitizeMetricName(name: string): string {
  const replaced = name.replace(INVALID_METRIC_NAME_CHARS, '_');
  return replaced === '' || /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** A valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`); names starting with `__` are reserved, so they get a prefix. */
export function sanitizeLabelName(name: string): string {
  if (VALID_LABEL_NAME.test(name) && !name.startsWith('__')) return name;
  const replaced = name.replace(INVALID_LABEL_NAME_CHARS, '_');
  if (replaced === '' || /^[0-9]/.test(replaced)) return `_${replaced}`;
  return replaced.startsWith('__') ? `label${replaced}` : replaced;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_VALUE_SPECIALS.test(value)) return value;
  return value.replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`));
}

/** HELP text escapes backslash and line feed (quotes stay as they are). */
export function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (char) => (char === '\n' ? '\\n' : '\\\\'));
}

/** Go's ParseFloat reads what String() writes, except for the infinities, which the format spells +Inf/-Inf. */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}

/**
 * The inside of a sample's braces, `a="1",b="2"`, with names sorted so that the same label set always
 * gives the same text: the registry also uses it as the key of a series. `reserved` names (the histogram's
 * `le`) are left out, and of two names that sanitize to the same one, the first wins.
 */
export function labelPairs(labels: MetricLabels | undefined, reserved?: string): string {
  if (labels === undefined) return '';
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  if (names.length > 1) names.sort();
  let text = '';
  // Distinct valid names stay distinct: only renamed ones can collide.
  const seen = names.length > 1 && names.some((name) => sanitizeLabelName(name) !== name) ? new Set<string>() : undefined;
  for (const name of names) {
    const label = sanitizeLabelName(name);
    if (label === reserved || seen?.has(label)) continue;
    seen?.add(label);
    text += `${text === '' ? '' : ','}${label}="${escapeLabelValue(String(labels[name]))}"`;
  }
  return text;
}

/** Collects exposition lines; every line, the last included, ends with a line feed. */
export class ExpositionWriter {
  private readonly lines: string[] = [];

  family(name: string, type: MetricType, help: string): void {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  /** `pairs` as labelPairs() makes them. */
  sample(name: string, pairs: string, value: number): void {
    this.lines.push(pairs === '' ? `${name} ${formatValue(value)}` : `${name}{${pairs}} ${formatValue(value)}`);
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
