/**
 * The AMQP 0-9-1 codec: bytes in, frames and methods out, and back. Pure: it imports neither the core
 * nor node:net, so it can be fuzzed and tested on bytes alone.
 */
export * from './amqp-definitions.generated.js';
export { AmqpCodecError, CodecReplyCode, isAmqpCodecError } from './codec-error.js';
export type { CodecReplyName } from './codec-error.js';
export { decodeFieldTable, encodeFieldTable, MAX_FIELD_DEPTH, readFieldTable, readFieldTableTags, writeFieldTable } from './field-table.js';
export type { FieldTable, FieldValue } from './field-table.js';
export { FRAME_SIZE_TOLERANCE, FrameReader, PROTOCOL_HEADER } from './frame-reader.js';
export type {
  AmqpFrame,
  FrameReaderEvent,
  FrameReaderOptions,
  ProtocolHeaderAccepted,
  ProtocolHeaderRejected,
} from './frame-reader.js';
export { FrameWriter } from './frame-writer.js';
export type { FrameWriterOptions } from './frame-writer.js';
export { WireReader } from './wire-reader.js';
export { FRAME_OVERHEAD, WireWriter } from './wire-writer.js';
