/**
 * The command line's entry: builds the program (cli/program.ts declares every command), runs it, and is the
 * one place that turns errors into exit codes and `pki: error:` lines.
 */
import { Command, CommanderError } from 'commander';
import { PkiError } from '../core/errors.js';
import { ExitCode, ExitError, exitCodeFor, formatErrorLine, isNagiosMode, nagiosUnknownLine } from './errors.js';
import { escapeControls, jsonText } from './terminal-text.js';
import { buildProgram } from './program.js';
import { warn } from './output.js';


/**
 * `pki … | head -1`: once the reader has gone, the rest of the output has nowhere to go. That is not an
 * error (cat, git and openssl stay quiet too): further writes are dropped and the command finishes with
 * its own exit code, so no work is cut off half-way. Without this listener Node throws EPIPE with a stack.
 */
function ignoreClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    process.stderr.write(`pki: error: cannot write to standard output: ${e.code ?? e.message}\n`);
    process.exitCode = ExitCode.failure;
  });
}

/**
 * Bare `pki`, `pki ssh`, `pki db`: the help, on stdout with exit 0, as step does (commander's default is
 * stderr and exit 1, which reads as a failure to someone exploring the tool).
 */
function helpForBareCommand(program: Command, args: readonly string[]): Command | undefined {
  if (args.length === 0) return program;
  if (args.length !== 1) return undefined;
  return program.commands.find((c) => c.name() === args[0] && c.commands.length > 0);
}

/** Runs the CLI and returns the exit code; the only place that turns errors into exit codes. */
export async function main(argv: readonly string[]): Promise<number> {
  ignoreClosedStdout();
  const program = buildProgram();
  const bare = helpForBareCommand(program, argv.slice(2));
  if (bare) {
    bare.outputHelp();
    return ExitCode.ok;
  }
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  const nagios = isNagiosMode(argv.slice(2));
  try {
    await program.parseAsync(argv as string[]);
    return ExitCode.ok;
  } catch (e) {
    if (nagios && !(e instanceof ExitError) && !(e instanceof CommanderError && /^commander\.(helpDisplayed|version|help)$/.test(e.code))) {
      const message = e instanceof Error ? e.message.replace(/^error: /, '') : String(e);
      process.stdout.write(`${nagiosUnknownLine(e instanceof PkiError ? `${message}${e.hint ? ` (${e.hint})` : ''}` : message)}\n`);
      if (e instanceof PkiError) process.stderr.write(`${formatErrorLine(e)}\n`);
      return ExitCode.nagiosUnknown;
    }
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage; // commander already printed "error: …"
    }
    if (e instanceof ExitError) {
      for (const line of e.lines) 'error' in line ? process.stderr.write(`${formatErrorLine(line.error)}\n`) : warn(line.warning);
      return e.exitCode;
    }
    if (e instanceof PkiError) {
      if (json) process.stdout.write(`${jsonText({ error: { code: e.code, message: e.message, hint: e.hint ?? null } })}\n`);
      process.stderr.write(`${formatErrorLine(e)}\n`);
      if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
      return exitCodeFor(e.code);
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`pki: internal error: ${escapeControls(message.split('\n')[0] ?? '')} (this is a bug; rerun with --debug for the stack)\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return ExitCode.failure;
  }
}
