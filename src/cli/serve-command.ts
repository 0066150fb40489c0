import { readFile } from 'node:fs/promises';
import { isBrokerError } from '../core/errors.js';
import { createLogger } from '../observability/logger.js';
import { parseServeFlags, resolveConfig } from '../server/config.js';
import { readPackageVersion } from '../server/package-info.js';
import { startServer } from '../server/server.js';
import { serveHelp } from '../server/settings-reference.js';
import type { CliIo } from './cli-io.js';
import { ExitCode, type Command } from './command.js';

/**
 * How long the process may linger after a clean shutdown before it is ended anyway. The timer is unref'd,
 * so it only fires when some forgotten handle keeps the event loop alive; a clean stop exits at once.
 */
const lingerAfterShutdownMs = 5000;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Start the broker (see courier serve --help for its settings).',
  help: serveHelp,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const flags = parseServeFlags(args);
    if (flags.help) {
      io.stdout(serveHelp());
      return ExitCode.ok;
    }
    const { config, warnings } = await resolveConfig({
      flags: flags.values,
      env: io.env,
      cwd: io.cwd,
      readTextFile: (path) => readFile(path, 'utf8'),
    });
    const { logger, flushSync } = createLogger({ level: config.logLevel });
    for (const warning of warnings) logger.warn({}, warning);
    logger.debug({ config }, 'configuration resolved');

    let requestStop: (signal: NodeJS.Signals) => void = () => {};
    const stopRequested = new Promise<NodeJS.Signals>((resolve) => (requestStop = resolve));
    let signalCount = 0;
    const unsubscribe = io.onShutdownSignal((signal) => {
      signalCount++;
      if (signalCount === 1) {
        logger.info({ signal }, 'shutting down');
        requestStop(signal);
        return;
      }
      logger.error({ signal }, 'second signal during shutdown: exiting without finishing');
      flushSync();
      io.forceExit(ExitCode.failure);
    });

    let exitCode: number = ExitCode.failure;
    try {
      const server = await startServer(config, { logger, version: await readPackageVersion() });
      await stopRequested;
      await server.close();
      exitCode = ExitCode.ok;
      return exitCode;
    } catch (error) {
      // Expected failures are one line on stderr (main); anything else also leaves its stack in the log.
      if (!isBrokerError(error)) logger.error({ err: error }, 'unexpected failure');
      throw error;
    } finally {
      unsubscribe();
      setTimeout(() => {
        logger.warn({}, 'process still running after shutdown: exiting');
        flushSync();
        io.forceExit(exitCode);
      }, lingerAfterShutdownMs).unref();
    }
  },
};
