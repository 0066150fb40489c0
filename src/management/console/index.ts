export { consoleRoutes, defaultConsoleRoots, type ConsoleRoutesOptions } from './console-routes.js';
export { contentTypeOf, isServableName, StaticFiles, type StaticFilesOptions } from './static-files.js';
