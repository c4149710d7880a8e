import { Option, InvalidArgumentError, type Command } from 'commander';
import { createLogger, LOG_LEVELS, type Logger } from './log.js';
import { isLabError } from './errors.js';
import type { LevelWithSilent } from 'pino';

/** Options every command inherits from the program (`--log-level`, `--log-file`). */
export interface GlobalOptions {
  logLevel?: LevelWithSilent;
  logFile?: string;
}

/** The logger for a command, named after the process title (`socketlab-echo`, ...). */
export function commandLogger(cmd: Command, name: string): Logger {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return createLogger({ level: g.logLevel, file: g.logFile, name });
}

export function addGlobalOptions(program: Command): void {
  program
    .addOption(
      new Option('--log-level <level>', 'log level').choices(LOG_LEVELS as string[]).env('SOCKETLAB_LOG_LEVEL').default('info'),
    )
    .addOption(new Option('--log-file <file>', 'append JSON log records to FILE instead of stderr').env('SOCKETLAB_LOG_FILE'));
}

/** Wraps a parser that throws LabError so commander reports it as a usage error (exit 2). */
export function argParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text: string) => {
    try {
      return parse(text);
    } catch (err) {
      if (isLabError(err)) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}

/** Collects repeated flags (`--zone a --zone b`) into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
