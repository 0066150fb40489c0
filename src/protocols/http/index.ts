export { createHttpApi, type HttpApi, type HttpApiOptions } from './api.js';
export { openApiDocument } from './openapi.js';
export { DEFAULT_MAX_BODY_BYTES } from './request-body.js';
export type { HttpApiContext, HttpApiRoute, HttpApiRouteContext } from './route-types.js';
