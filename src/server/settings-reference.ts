import { envVarOf, fileKeyOf, flagOf, settings, type AnySetting } from './settings.js';

const helpWidth = 100;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function flagWithPlaceholder(definition: AnySetting): string {
  return `${flagOf(definition)} ${definition.type.placeholder}`;
}

/** `courier serve --help`, generated from the settings table so it cannot drift from the parser. */
export function serveHelp(): string {
  const rows = [
    ...settings.map((definition) => {
      const origin = [
        definition.default === undefined ? undefined : `default ${definition.default}`,
        `env ${envVarOf(definition)}`,
      ].filter((part) => part !== undefined);
      return { left: flagWithPlaceholder(definition), text: definition.description, origin: origin.join(', ') };
    }),
    { left: '-h, --help', text: 'Show this help.', origin: '' },
  ];
  const column = Math.max(...rows.map((row) => row.left.length)) + 4;
  const indent = ' '.repeat(column + 2);
  const body = rows.flatMap((row) => {
    const lines = wrap(row.text, helpWidth - column - 2);
    if (row.origin !== '') lines.push(`(${row.origin})`);
    return lines.map((line, index) => (index === 0 ? `  ${row.left.padEnd(column)}${line}` : `${indent}${line}`));
  });
  return [
    'Usage: courier serve [flags]',
    '',
    'Starts the broker. Each setting comes from its flag, else its environment variable, else the config',
    'file given by --config (keys are the flag names without the leading dashes), else its default.',
    '',
    'Flags:',
    ...body,
    '',
  ].join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The table docs/configuration.md must contain verbatim (a test compares them). */
export function settingsMarkdownTable(): string {
  const header = ['| Flag | Environment variable | Config file key | Default | Meaning |', '|---|---|---|---|---|'];
  const rows = settings.map((definition) => {
    const fileKey = fileKeyOf(definition);
    return [
      `\`${flagWithPlaceholder(definition)}\``,
      `\`${envVarOf(definition)}\``,
      fileKey === undefined ? '(none)' : `\`${fileKey}\``,
      definition.default === undefined ? '(none)' : `\`${definition.default}\``,
      cell(definition.description),
    ];
  });
  return [...header, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}
