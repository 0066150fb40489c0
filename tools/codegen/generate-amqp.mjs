#!/usr/bin/env node
// Generates src/protocols/amqp/codec/amqp-definitions.generated.ts from RabbitMQ's machine-readable
// AMQP 0-9-1 specification (the JSON form its own code generator reads). No dependencies.
//
// Usage: node tools/codegen/generate-amqp.mjs [spec.json] [--out file] [--check]
//   spec.json  defaults to ../shared/specs/amqp-rabbitmq-0.9.1.json beside the repository
//   --out      where to write (default: the committed generated file)
//   --check    write nothing; exit 1 when the committed file differs from what the spec generates
//
// The output is deterministic (no dates, no absolute paths) so that a test can regenerate it and
// compare byte for byte.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_SPEC = resolve(repoRoot, '..', 'shared', 'specs', 'amqp-rabbitmq-0.9.1.json');
const DEFAULT_OUT = join(repoRoot, 'src', 'protocols', 'amqp', 'codec', 'amqp-definitions.generated.ts');
const SPEC_FILE_NAME = 'amqp-rabbitmq-0.9.1.json';

const BASE_TYPES = new Set(['bit', 'octet', 'short', 'long', 'longlong', 'shortstr', 'longstr', 'table', 'timestamp']);

const TS_TYPES = {
  bit: 'boolean',
  octet: 'number',
  short: 'number',
  long: 'number',
  longlong: 'number',
  timestamp: 'number',
  shortstr: 'string',
  longstr: 'Uint8Array',
  table: 'FieldTable',
};

// Method arguments: short strings name things the broker acts on, so they are decoded strictly.
const ARGUMENT_READERS = {
  octet: 'r.octet()',
  short: 'r.short()',
  long: 'r.long()',
  longlong: 'r.longlong()',
  timestamp: 'r.longlong()',
  shortstr: 'r.shortStr()',
  longstr: 'r.longStrBytes()',
  table: 'readFieldTable(r)',
};

// Content properties are carried along, so malformed UTF-8 in them does not close the connection.
const PROPERTY_READERS = { ...ARGUMENT_READERS, shortstr: 'r.shortStrLenient()' };

const WRITERS = {
  octet: (v) => `out.octet(${v});`,
  short: (v) => `out.short(${v});`,
  long: (v) => `out.long(${v});`,
  longlong: (v) => `out.longlong(${v});`,
  timestamp: (v) => `out.longlong(${v});`,
  shortstr: (v) => `out.shortStr(${v});`,
  longstr: (v) => `out.longStr(${v});`,
  table: (v) => `writeFieldTable(out, ${v});`,
};

// The JSON form of the specification drops the XML's <response> elements. Every synchronous method is
// answered by its "-ok" sibling; basic.get is the one method with a second possible answer.
const EXTRA_RESPONSES = { 'basic.get': ['basic.get-empty'] };

function fail(message) {
  console.error(`generate-amqp: ${message}`);
  process.exit(2);
}

function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function pascal(name) {
  const c = camel(name);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

function constName(name) {
  return name.toUpperCase().replace(/-/g, '_');
}

function hexId(classId, methodId) {
  return `0x${(classId * 0x10000 + methodId).toString(16).padStart(8, '0')}`;
}

function parseArgs(argv) {
  const options = { spec: DEFAULT_SPEC, out: DEFAULT_OUT, check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out') {
      const value = argv[++i];
      if (value === undefined) fail('--out needs a file');
      options.out = resolve(value);
    } else if (arg === '--check') {
      options.check = true;
    } else if (arg === '--help' || arg === '-h') {
      console.log('usage: node tools/codegen/generate-amqp.mjs [spec.json] [--out file] [--check]');
      process.exit(0);
    } else if (arg.startsWith('--')) {
      fail(`unknown option ${arg}`);
    } else {
      options.spec = resolve(arg);
    }
  }
  return options;
}

/** Reads the spec into a normalised model, checking the assumptions the generated code relies on. */
function loadSpec(path) {
  let raw;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`cannot read the specification ${path}: ${error.message}`);
  }
  const domains = new Map(raw.domains.map(([name, type]) => [name, type]));
  const resolveType = (field, where) => {
    const type = field.type ?? domains.get(field.domain);
    if (!BASE_TYPES.has(type)) fail(`${where}: unknown type for ${JSON.stringify(field)}`);
    return type;
  };
  const classes = raw.classes.map((cls) => {
    const methods = cls.methods.map((method) => {
      const where = `${cls.name}.${method.name}`;
      const args = method.arguments.map((arg) => ({
        wireName: arg.name,
        name: camel(arg.name),
        type: resolveType(arg, where),
        ...('default-value' in arg ? { defaultValue: arg['default-value'] } : {}),
      }));
      if (args.some((arg) => arg.name === 'name')) fail(`${where}: an argument collides with the discriminant "name"`);
      return {
        className: cls.name,
        wireName: method.name,
        fullName: `${cls.name}.${method.name}`,
        typeName: pascal(cls.name) + pascal(method.name),
        classId: cls.id,
        methodId: method.id,
        synchronous: method.synchronous === true,
        hasContent: method.content === true,
        args,
      };
    });
    const properties = (cls.properties ?? []).map((prop) => ({
      wireName: prop.name,
      name: camel(prop.name),
      type: resolveType(prop, `${cls.name} properties`),
    }));
    if (properties.length > 15) fail(`${cls.name}: more than 15 properties need flag continuation words`);
    if (properties.some((prop) => prop.type === 'bit')) fail(`${cls.name}: bit properties are not supported`);
    return { name: cls.name, id: cls.id, methods, properties };
  });
  const methods = classes.flatMap((cls) => cls.methods);
  const byName = new Map(methods.map((m) => [m.fullName, m]));
  const ids = new Set();
  for (const m of methods) {
    const id = m.classId * 0x10000 + m.methodId;
    if (ids.has(id)) fail(`duplicate method id ${m.classId}/${m.methodId}`);
    ids.add(id);
    const responses = [];
    if (m.synchronous) {
      const ok = `${m.fullName}-ok`;
      if (!byName.has(ok)) fail(`${m.fullName} is synchronous but has no ${ok}`);
      responses.push(ok, ...(EXTRA_RESPONSES[m.fullName] ?? []));
    }
    for (const r of responses) if (!byName.has(r)) fail(`${m.fullName}: response ${r} does not exist`);
    m.responses = responses;
  }
  const contentClasses = classes.filter((cls) => cls.properties.length > 0);
  for (const m of methods) {
    if (m.hasContent && !contentClasses.some((cls) => cls.id === m.classId)) {
      fail(`${m.fullName} carries content but its class has no properties`);
    }
  }
  return {
    version: { major: raw['major-version'], minor: raw['minor-version'], revision: raw.revision },
    port: raw.port,
    copyright: raw.copyright.join('').trimEnd(),
    constants: raw.constants,
    classes,
    methods,
    contentClasses,
  };
}

/** Groups consecutive bit arguments into octets of at most eight (AMQP 0-9-1 §4.2.5.2). */
function packArguments(args) {
  const packed = [];
  let bits = null;
  args.forEach((arg, index) => {
    if (arg.type === 'bit') {
      if (bits === null || bits.args.length === 8) {
        bits = { kind: 'bits', index, args: [] };
        packed.push(bits);
      }
      bits.args.push(arg);
    } else {
      bits = null;
      packed.push({ kind: 'field', index, arg });
    }
  });
  return packed;
}

function generate(spec) {
  const lines = [];
  const emit = (...more) => lines.push(...more);

  emit(
    `// GENERATED by tools/codegen/generate-amqp.mjs from ${SPEC_FILE_NAME} — do not edit`,
    '// Regenerate with: node tools/codegen/generate-amqp.mjs [path/to/amqp-rabbitmq-0.9.1.json]',
    '/**',
    ` * AMQP ${spec.version.major}-${spec.version.minor}-${spec.version.revision} with RabbitMQ's extensions: constants, one type per method,`,
    ' * method and content-header codecs, and method metadata.',
    ' *',
    ' * Derived from the specification file, whose notice follows:',
    ...spec.copyright.split('\n').map((line) => (line.trim() === '' ? ' *' : ` *   ${line.trimEnd()}`)),
    ' */',
    "import { AmqpCodecError, encodeError, frameError } from './codec-error.js';",
    "import { readFieldTable, writeFieldTable } from './field-table.js';",
    "import type { FieldTable } from './field-table.js';",
    "import { WireReader } from './wire-reader.js';",
    "import type { WireWriter } from './wire-writer.js';",
    '',
  );

  // Constants
  emit(
    `export const PROTOCOL_VERSION = { major: ${spec.version.major}, minor: ${spec.version.minor}, revision: ${spec.version.revision} } as const;`,
    `export const AMQP_PORT = ${spec.port};`,
    '',
  );
  const replyCodes = [];
  for (const c of spec.constants) {
    if (c.class !== undefined || c.name.startsWith('REPLY-')) {
      replyCodes.push(c);
    } else {
      emit(`export const ${constName(c.name)} = ${c.value};`);
    }
  }
  emit(
    '',
    '/** Reply codes for `connection.close` / `channel.close` (soft errors close a channel, hard ones the connection). */',
    'export const ReplyCode = {',
    ...replyCodes.map((c) => `  ${constName(c.name)}: ${c.value},`),
    '} as const;',
    '',
    "export type ReplyCodeKind = 'success' | 'soft-error' | 'hard-error';",
    '',
    'export interface ReplyCodeInfo {',
    '  readonly code: number;',
    '  /** The name RabbitMQ starts its reply texts with, e.g. `NOT_FOUND`. */',
    '  readonly name: keyof typeof ReplyCode;',
    '  readonly kind: ReplyCodeKind;',
    '}',
    '',
    'export const REPLY_CODES: readonly ReplyCodeInfo[] = [',
    ...replyCodes.map(
      (c) => `  { code: ${c.value}, name: '${constName(c.name)}', kind: '${c.class ?? 'success'}' },`,
    ),
    '];',
    '',
    'export function replyCodeInfo(code: number): ReplyCodeInfo | undefined {',
    '  return REPLY_CODES.find((info) => info.code === code);',
    '}',
    '',
    'export const ClassId = {',
    ...spec.classes.map((cls) => `  ${constName(cls.name)}: ${cls.id},`),
    '} as const;',
    '',
  );

  // Method types
  for (const m of spec.methods) {
    const notes = [`${m.fullName} (class ${m.classId}, method ${m.methodId})`];
    if (m.synchronous) notes.push(`synchronous, answered by ${m.responses.join(' or ')}`);
    if (m.hasContent) notes.push('followed by content');
    emit(`/** ${notes.join('; ')}. */`, `export interface ${m.typeName} {`, `  name: '${m.fullName}';`);
    for (const arg of m.args) emit(`  ${arg.name}: ${TS_TYPES[arg.type]};`);
    emit('}', '');
  }
  emit(
    'export type AmqpMethod =',
    ...spec.methods.map((m, i) => `  | ${m.typeName}${i === spec.methods.length - 1 ? ';' : ''}`),
    '',
    "export type MethodName = AmqpMethod['name'];",
    '',
    'export interface AmqpMethodMap {',
    ...spec.methods.map((m) => `  '${m.fullName}': ${m.typeName};`),
    '}',
    '',
  );

  // Metadata
  emit(
    "export type ArgumentType = 'bit' | 'octet' | 'short' | 'long' | 'longlong' | 'shortstr' | 'longstr' | 'table' | 'timestamp';",
    '',
    'export interface ArgumentInfo {',
    '  /** Field name in the method type (camelCase). */',
    '  readonly name: string;',
    '  /** Name in the specification. */',
    '  readonly wireName: string;',
    '  readonly type: ArgumentType;',
    '  /** The specification\'s default (a longstr default is given as its text). */',
    '  readonly defaultValue?: boolean | number | string | Readonly<Record<string, never>>;',
    '}',
    '',
    'export interface MethodInfo {',
    '  readonly name: MethodName;',
    '  readonly classId: number;',
    '  readonly methodId: number;',
    '  /** The peer must answer with one of `responses` (unless the method\'s no-wait bit is set). */',
    '  readonly synchronous: boolean;',
    '  /** A content header and body frames follow the method frame. */',
    '  readonly hasContent: boolean;',
    '  readonly responses: readonly MethodName[];',
    '  readonly arguments: readonly ArgumentInfo[];',
    '}',
    '',
    'export const METHODS: { readonly [N in MethodName]: MethodInfo } = {',
  );
  for (const m of spec.methods) {
    emit(
      `  '${m.fullName}': {`,
      `    name: '${m.fullName}',`,
      `    classId: ${m.classId},`,
      `    methodId: ${m.methodId},`,
      `    synchronous: ${m.synchronous},`,
      `    hasContent: ${m.hasContent},`,
      `    responses: [${m.responses.map((r) => `'${r}'`).join(', ')}],`,
    );
    if (m.args.length === 0) {
      emit('    arguments: [],');
    } else {
      emit('    arguments: [');
      for (const arg of m.args) {
        const dflt = arg.defaultValue === undefined ? '' : `, defaultValue: ${JSON.stringify(arg.defaultValue)}`;
        emit(`      { name: '${arg.name}', wireName: '${arg.wireName}', type: '${arg.type}'${dflt} },`);
      }
      emit('    ],');
    }
    emit('  },');
  }
  emit(
    '};',
    '',
    '/** Metadata of the method with these ids, or undefined when the specification has none. */',
    'export function methodInfo(classId: number, methodId: number): MethodInfo | undefined {',
    '  switch (classId * 0x10000 + methodId) {',
  );
  for (const m of spec.methods) {
    emit(`    case ${hexId(m.classId, m.methodId)}:`, `      return METHODS['${m.fullName}'];`);
  }
  emit('    default:', '      return undefined;', '  }', '}', '');

  // Method encoders
  for (const m of spec.methods) {
    const param = m.args.length === 0 ? '_method' : 'method';
    const outParam = m.args.length === 0 ? '_out' : 'out';
    emit(`function write${m.typeName}(${param}: ${m.typeName}, ${outParam}: WireWriter): void {`);
    for (const part of packArguments(m.args)) {
      if (part.kind === 'bits') {
        const terms = part.args.map((arg, bit) => `(method.${arg.name} ? ${1 << bit} : 0)`);
        const line = `  out.octet(${terms.join(' | ')});`;
        if (line.length <= 110) emit(line);
        else emit('  out.octet(', ...terms.map((t, i) => `    ${i === 0 ? '' : '| '}${t}`), '  );');
      } else {
        emit(`  ${WRITERS[part.arg.type](`method.${part.arg.name}`)}`);
      }
    }
    emit('}', '');
  }
  emit(
    '/**',
    ' * Appends one method frame (AMQP 0-9-1 §4.2.4) to `out`. On failure (a value the wire cannot carry) the',
    ' * partial frame is removed again and an AmqpCodecError is thrown.',
    ' */',
    'export function encodeMethod(channel: number, method: AmqpMethod, out: WireWriter): void {',
    '  const frame = out.beginFrame(FRAME_METHOD, channel);',
    '  try {',
    '    switch (method.name) {',
  );
  for (const m of spec.methods) {
    emit(
      `      case '${m.fullName}':`,
      `        out.long(${hexId(m.classId, m.methodId)});`,
      `        write${m.typeName}(method, out);`,
      '        break;',
    );
  }
  emit(
    '      default:',
    '        throw encodeError(`unknown method ${String((method as { name: unknown }).name)}`);',
    '    }',
    '  } catch (error) {',
    '    out.truncate(frame);',
    '    throw error;',
    '  }',
    '  out.endFrame(frame);',
    '}',
    '',
  );

  // Method decoders
  for (const m of spec.methods) {
    emit(`function read${m.typeName}(r: WireReader): ${m.typeName} {`);
    const fields = [];
    for (const part of packArguments(m.args)) {
      if (part.kind === 'bits') {
        emit(`  const bits${part.index} = r.octet();`);
        part.args.forEach((arg, bit) => fields.push(`${arg.name}: (bits${part.index} & ${1 << bit}) !== 0`));
      } else {
        emit(`  const f${part.index} = ${ARGUMENT_READERS[part.arg.type]};`);
        fields.push(`${part.arg.name}: f${part.index}`);
      }
    }
    emit('  r.expectEnd();');
    if (fields.length === 0) {
      emit(`  return { name: '${m.fullName}' };`);
    } else {
      emit('  return {', `    name: '${m.fullName}',`, ...fields.map((f) => `    ${f},`), '  };');
    }
    emit('}', '');
  }
  emit(
    '/**',
    ' * Decodes the payload of a method frame. Malformed arguments raise FRAME_ERROR (RabbitMQ: "cannot',
    ' * decode"), an unknown class or method NOT_IMPLEMENTED; the error carries the class and method ids.',
    ' */',
    'export function decodeMethod(payload: Uint8Array): AmqpMethod {',
    '  if (payload.byteLength < 4) {',
    '    throw frameError(`method frame of ${payload.byteLength} octets has no class and method id`);',
    '  }',
    '  const r = new WireReader(payload);',
    '  const classId = r.short();',
    '  const methodId = r.short();',
    '  try {',
    '    switch (classId * 0x10000 + methodId) {',
  );
  for (const m of spec.methods) {
    emit(`      case ${hexId(m.classId, m.methodId)}:`, `        return read${m.typeName}(r);`);
  }
  emit(
    '    }',
    '  } catch (error) {',
    '    throw error instanceof AmqpCodecError ? error.inMethod(classId, methodId) : error;',
    '  }',
    "  throw new AmqpCodecError('NOT_IMPLEMENTED', `unknown method: class ${classId}, method ${methodId}`, classId, methodId);",
    '}',
    '',
  );

  // Content headers
  for (const cls of spec.contentClasses) {
    const typeName = `${pascal(cls.name)}Properties`;
    emit(
      `/** Content properties of class ${cls.name} (${cls.properties.length}), in flag order. */`,
      `export interface ${typeName} {`,
    );
    for (const prop of cls.properties) emit(`  ${prop.name}?: ${TS_TYPES[prop.type]};`);
    emit(
      '}',
      '',
      `export const ${constName(cls.name)}_PROPERTIES: readonly { readonly name: keyof ${typeName}; readonly type: ArgumentType }[] = [`,
      ...cls.properties.map((prop) => `  { name: '${prop.name}', type: '${prop.type}' },`),
      '];',
      '',
      `function write${typeName}(properties: ${typeName}, out: WireWriter): void {`,
      '  const flagsAt = out.reserve(2);',
      '  let flags = 0;',
    );
    cls.properties.forEach((prop, index) => {
      const flag = `0x${(0x8000 >>> index).toString(16).padStart(4, '0')}`;
      emit(
        `  if (properties.${prop.name} !== undefined) {`,
        `    flags |= ${flag};`,
        `    ${WRITERS[prop.type](`properties.${prop.name}`)}`,
        '  }',
      );
    });
    emit('  out.patchShort(flagsAt, flags);', '}', '');
    emit(
      `function read${typeName}(r: WireReader): ${typeName} {`,
      '  // Unused flag bits and the continuation bit are ignored, as RabbitMQ does.',
      '  const flags = r.short();',
      `  const properties: ${typeName} = {};`,
    );
    cls.properties.forEach((prop, index) => {
      const flag = `0x${(0x8000 >>> index).toString(16).padStart(4, '0')}`;
      emit(`  if ((flags & ${flag}) !== 0) properties.${prop.name} = ${PROPERTY_READERS[prop.type]};`);
    });
    emit('  r.expectEnd();', '  return properties;', '}', '');
  }
  const unionName = spec.contentClasses.map((cls) => `${pascal(cls.name)}Properties`).join(' | ');
  for (const needed of ['FRAME-METHOD', 'FRAME-HEADER']) {
    if (!spec.constants.some((c) => c.name === needed)) fail(`the specification has no ${needed} constant`);
  }
  emit(
    `export type ContentProperties = ${unionName};`,
    '',
    `export type ContentClassId = ${spec.contentClasses.map((cls) => cls.id).join(' | ')};`,
    '',
    '/** A decoded content header frame payload (AMQP 0-9-1 §4.2.6.1). */',
    'export interface ContentHeader {',
    '  classId: ContentClassId;',
    '  /** Must be 0 in AMQP 0-9-1; checking it is the session\'s job. */',
    '  weight: number;',
    '  bodySize: number;',
    '  properties: ContentProperties;',
    '}',
    '',
    '/** Appends a content header frame. On failure the partial frame is removed again. */',
    'export function encodeContentHeader(',
    '  channel: number,',
    '  classId: ContentClassId,',
    '  bodySize: number,',
    '  properties: ContentProperties,',
    '  out: WireWriter,',
    '): void {',
    '  const frame = out.beginFrame(FRAME_HEADER, channel);',
    '  try {',
    '    out.short(classId);',
    '    out.short(0);',
    '    out.longlong(bodySize);',
    '    switch (classId) {',
  );
  for (const cls of spec.contentClasses) {
    emit(`      case ${cls.id}:`, `        write${pascal(cls.name)}Properties(properties, out);`, '        break;');
  }
  emit(
    '      default:',
    '        throw encodeError(`class ${String(classId)} has no content`);',
    '    }',
    '  } catch (error) {',
    '    out.truncate(frame);',
    '    throw error;',
    '  }',
    '  out.endFrame(frame);',
    '}',
    '',
    '/**',
    ' * Decodes the payload of a content header frame. A class without content properties raises',
    ' * UNEXPECTED_FRAME (RabbitMQ: "expected content header for class 60, got one for class N").',
    ' */',
    'export function decodeContentHeader(payload: Uint8Array): ContentHeader {',
    '  const r = new WireReader(payload);',
    '  const classId = r.short();',
    '  const weight = r.short();',
    '  const bodySize = r.uint64Exact();',
    "  if (typeof bodySize === 'bigint') throw frameError(`content body size ${bodySize} is beyond 2^53`);",
    '  switch (classId) {',
  );
  for (const cls of spec.contentClasses) {
    emit(
      `    case ${cls.id}:`,
      `      return { classId: ${cls.id}, weight, bodySize, properties: read${pascal(cls.name)}Properties(r) };`,
    );
  }
  emit(
    '    default:',
    "      throw new AmqpCodecError('UNEXPECTED_FRAME', `content header for class ${classId}, which has no content`);",
    '  }',
    '}',
    '',
  );
  return lines.join('\n');
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const output = generate(loadSpec(options.spec));
  if (options.check) {
    let current = '';
    try {
      current = readFileSync(options.out, 'utf8');
    } catch {
      // treated as differing
    }
    if (current !== output) {
      console.error(`generate-amqp: ${options.out} is out of date; run node tools/codegen/generate-amqp.mjs`);
      process.exit(1);
    }
    console.log(`generate-amqp: ${options.out} is up to date`);
    return;
  }
  writeFileSync(options.out, output);
  console.log(`generate-amqp: wrote ${options.out}`);
}

main();
