export { StompCodecError, isStompCodecError, type StompCodecErrorCode } from './codec-error.js';
export { escapeHeader, unescapeHeader } from './escape.js';
export {
  EMPTY_BODY,
  escapingFor,
  isUnescapedCommand,
  makeFrame,
  supportedVersions,
  type HeaderEscaping,
  type StompFrame,
  type StompHeaders,
  type StompVersion,
} from './frame.js';
export { defaultStompLimits, type StompLimits } from './limits.js';
export { FrameParser } from './parser.js';
export { FrameWriter, HEART_BEAT, serializeFrame } from './serializer.js';
