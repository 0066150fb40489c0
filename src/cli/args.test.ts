import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandHelp, expectPositionals, integerFlag, pairsFlag, parseCommandArgs, stringFlag, type FlagSpec } from './args.js';
import { formatTable } from './table.js';

const flags: readonly FlagSpec[] = [
  { name: 'file', short: 'f', type: 'string', placeholder: 'FILE', description: 'A file.' },
  { name: 'arg', type: 'string', multiple: true, description: 'Repeatable.' },
  { name: 'max', type: 'string', description: 'A number.' },
  { name: 'json', type: 'boolean', description: 'JSON.' },
];

describe('command arguments', () => {
  it('reads flags, short flags, repeated flags and positionals', () => {
    const parsed = parseCommandArgs('x', ['-f', 'a.yaml', 'pos', '--arg', 'k=1', '--arg=b=true', '--json', '--max', '7'], flags);
    assert.equal(stringFlag(parsed, 'file'), 'a.yaml');
    assert.deepEqual(parsed.positionals, ['pos']);
    assert.deepEqual(pairsFlag(parsed, 'arg', true), { k: 1, b: true });
    assert.deepEqual(pairsFlag(parsed, 'arg', false), { k: '1', b: 'true' });
    assert.equal(integerFlag(parsed, 'max', 1, 10), 7);
    assert.ok(parsed.booleans.has('json'));
    assert.equal(parseCommandArgs('x', ['--help'], flags).help, true);
  });

  it('mistakes are CONFIG_INVALID (exit 2) with a clear message', () => {
    assert.throws(() => parseCommandArgs('queues list', ['--jsno'], flags), { code: 'CONFIG_INVALID', message: 'unknown flag --jsno (did you mean --json?) (see courier queues list --help)' });
    assert.throws(() => parseCommandArgs('x', ['--file'], flags), { message: 'missing value for --file' });
    assert.throws(() => parseCommandArgs('x', ['--file', '--json'], flags), { message: 'missing value for --file' });
    assert.throws(() => parseCommandArgs('x', ['--json=yes'], flags), { message: '--json takes no value' });
    assert.throws(() => integerFlag(parseCommandArgs('x', ['--max', '11'], flags), 'max', 1, 10), { message: 'invalid value "11" for --max: expected a whole number 1-10' });
    assert.throws(() => pairsFlag(parseCommandArgs('x', ['--arg', 'novalue'], flags), 'arg', true), { message: 'invalid value "novalue" for --arg: expected key=value' });
    assert.throws(() => expectPositionals('topics create', parseCommandArgs('x', [], flags), ['name']), { message: 'topics create: missing <name> (see courier topics create --help)' });
    assert.throws(() => expectPositionals('topics delete', parseCommandArgs('x', ['a', 'b'], flags), ['name']), { message: 'topics delete: unexpected argument "b" (see courier topics delete --help)' });
  });

  it('help aligns the flags and lists --help', () => {
    const help = commandHelp(['courier x [-f FILE]'], 'Does x.', flags);
    assert.match(help, /^Usage: courier x \[-f FILE\]\n\nDoes x\.\n\nFlags:\n {2}-f, --file FILE +A file\.\n/);
    assert.match(help, /^ {2}-h, --help +Show this help\.$/m);
  });
});

describe('tables', () => {
  it('aligns columns under upper-case headers and keeps cells on one line', () => {
    assert.equal(
      formatTable(['name', 'ready'], [['jobs', 3], ['a-much-longer-name', 12], ['multi\nline', null]]),
      'NAME                READY\njobs                3\na-much-longer-name  12\nmulti line\n',
    );
    assert.equal(formatTable(['name'], [], '(no queues)'), '(no queues)\n');
  });
});
