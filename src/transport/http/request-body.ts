import type { IncomingMessage } from 'node:http';
import { BrokerError } from '../../core/errors.js';

/** Default largest request body the HTTP API buffers: 1 MiB, RabbitMQ's default HTTP body limit order. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(limit: number): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', `request body larger than ${limit} bytes`, { httpStatus: 413, limit });
}

/**
 * Reads a request body, refusing (413) one whose Content-Length is over `limit` before reading anything
 * and one that grows past it while streaming (chunked): at most `limit` bytes are ever held.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > limit) {
        finish(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const finish = (error?: BrokerError): void => {
      if (done) return;
      done = true;
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      if (error) {
        // Stop reading: the rest of the upload is never buffered; the response closes the connection.
        request.pause();
        reject(error);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onEnd = (): void => finish();
    const onError = (error: Error): void => finish(new BrokerError('INVALID_ARGUMENT', 'the request body could not be read', {}, { cause: error }));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}
