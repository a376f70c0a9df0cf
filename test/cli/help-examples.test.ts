/**
 * Issue 12, point 4: every command's `--help` (the program's, groups' and each subcommand's, found by
 * walking the commander tree) ends with at least two examples, and every example line `  pki …` is a real
 * invocation: parsed by the real program (its actions replaced by a recorder, so nothing runs), it reaches
 * the command whose help shows it, with no unknown flag, missing value or extra argument.
 */
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandPath } from '../../src/cli/help-examples.js';
import { buildProgram } from '../../src/cli/program.js';
import { pki } from '../helpers/cli.js';

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** Shell words of an example, up to a redirection or pipe (double and single quotes understood). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    const word = m[1] ?? m[2] ?? m[3]!;
    if (m[3] !== undefined && /^(>|>>|\||;|&&|<)/.test(word)) break;
    words.push(word);
  }
  return words;
}

/** Parses `pki …` with the real program, every action replaced; the command path it reached, or the commander error. */
function dryParse(line: string): string {
  const program = buildProgram();
  let reached: string | null = null;
  for (const c of allCommands(program)) {
    c.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    if (c.commands.length === 0) c.action(() => void (reached = commandPath(c)));
  }
  const [first, ...args] = shellWords(line);
  expect(first).toBe('pki');
  try {
    program.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return `commander error: ${e.code}: ${e.message}`;
    throw e;
  }
  return reached ?? 'no command reached';
}

const paths = allCommands(buildProgram()).map(commandPath);

describe('--help examples', () => {
  it('the walk finds every command, nested ones included', () => {
    expect(paths).toEqual(expect.arrayContaining(['', 'init', 'generate', 'inspect', 'ssh sign', 'ssh krl', 'db export-index', 'trust status', 'config validate', 'completion']));
    expect(paths.length).toBeGreaterThanOrEqual(27);
  });

  it.each(paths.map((p) => [p || '(pki)', p]))('pki %s --help shows at least two examples that parse and reach it', (_label, path) => {
    const r = pki([...(path ? path.split(' ') : []), '--help']);
    expect(r.code, r.stderr).toBe(0);
    const after = r.stdout.slice(r.stdout.lastIndexOf('\nExamples:\n'));
    expect(after.startsWith('\nExamples:\n'), r.stdout).toBe(true);
    const examples = r.stdout.split('\n').filter((l) => l.startsWith('  pki '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) {
      const reached = dryParse(example.trim());
      if (path === '') expect(paths, example).toContain(reached);
      else expect(reached === path || reached.startsWith(`${path} `), `${example} → ${reached}`).toBe(true);
    }
  });

  it('the check rejects what it should: an unknown flag, a missing value, an extra argument, an unknown command', () => {
    expect(dryParse('pki generate redis main --san a.internal')).toBe('generate');
    expect(dryParse('pki generate redis main --no-such-flag')).toMatch(/^commander error: commander.unknownOption/);
    expect(dryParse('pki init --kty')).toMatch(/^commander error: commander.optionMissingArgument/);
    expect(dryParse('pki list extra')).toMatch(/^commander error: commander.excessArguments/);
    expect(dryParse('pki ssh sing x.pub')).toMatch(/^commander error: commander.unknownCommand/);
  });

  it('reads quoted words and stops at a redirection', () => {
    expect(shellWords(`pki init --name "Example Corp" > out.txt`)).toEqual(['pki', 'init', '--name', 'Example Corp']);
  });
});
