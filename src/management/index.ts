export { createManagementApi, type ManagementApi, type ManagementApiOptions } from './api.js';
export { withManagementPaths, type OpenApiDocument } from './openapi.js';
export type { ManagementContext, ManagementRoute, ManagementRouteContext } from './route-types.js';
