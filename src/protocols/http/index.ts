export { createHttpApi, type HttpApi, type HttpApiOptions } from './api.js';
export { openApiDocument } from './openapi.js';
export { HTTP_WEBSOCKET_PATH, type HttpWebSocketEndpoint } from './ws-endpoint.js';
export { DEFAULT_MAX_BODY_BYTES } from '../../transport/http/request-body.js';
export type { HttpApiContext, HttpApiRoute, HttpApiRouteContext } from './route-types.js';
