/** Number, time and message-body formatting for the console's tables; pure, so it is unit-tested in Node. */

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1, minimumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatRate(value: number): string {
  return `${decimal.format(value)}/s`;
}

export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string): string => (small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`);
  if (days > 0) return pair(days, 'd', hours, 'h');
  if (hours > 0) return pair(hours, 'h', minutes, 'm');
  if (minutes > 0) return pair(minutes, 'm', rest, 's');
  return `${rest}s`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : decimal.format(value)} ${units[unit] ?? 'B'}`;
}

export interface BodyPreview {
  readonly text: string;
  /** False when the bytes are not UTF-8 text; `text` then says how many bytes there are. */
  readonly isText: boolean;
  readonly truncated: boolean;
  readonly bytes: number;
}

/** A readable preview of a base64 message body: UTF-8 text (pretty JSON) or a byte count. */
export function previewBody(base64: string, contentType: string | undefined, limit = 2000): BodyPreview {
  let bytes: Uint8Array;
  try {
    const binary = atob(base64);
    bytes = new Uint8Array(binary.length);
    for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  } catch {
    return { text: 'the body is not valid base64', isText: false, truncated: false, bytes: 0 };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { text: `binary, ${formatCount(bytes.length)} bytes`, isText: false, truncated: false, bytes: bytes.length };
  }
  if (contentType !== undefined && /json/i.test(contentType)) {
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Labelled JSON but not JSON: show it as it is.
    }
  }
  const truncated = text.length > limit;
  return { text: truncated ? `${text.slice(0, limit)}…` : text, isText: true, truncated, bytes: bytes.length };
}
