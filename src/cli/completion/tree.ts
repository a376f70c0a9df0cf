/**
 * The shared walk behind `pki completion bash|zsh|fish`: the commander program turned into plain data
 * (every command path, its long options, whether each takes a value and which values, its arguments),
 * so that each shell's generator is a pure string builder over the same tree and the scripts can never
 * drift from the flags program.ts declares.
 */
import type { Argument, Command, Option } from 'commander';
import { revocationReasons } from '../../core/x509/revocation-reason.js';

/** What a value (of an option or an argument) completes to. */
export type ValueSpec =
  | { readonly kind: 'choice'; readonly values: readonly string[] }
  | { readonly kind: 'file' }
  | { readonly kind: 'dir' }
  /** Free text (a name, a duration): nothing to offer. */
  | { readonly kind: 'text'; readonly name: string };

export interface OptionSpec {
  /** `--kty`; every option pki declares has a long name. */
  readonly long: string;
  /** `-q`, or null. */
  readonly short: string | null;
  readonly description: string;
  /** null: a switch without a value. */
  readonly value: ValueSpec | null;
  /** Declared with a collector (`--san`, repeatable). */
  readonly repeatable: boolean;
}

export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
  readonly variadic: boolean;
  readonly value: ValueSpec;
}

export interface CommandSpec {
  /** [] for the program, ['ssh', 'sign'] for `pki ssh sign`. */
  readonly path: readonly string[];
  readonly description: string;
  /** Its own options, then the global ones (commander accepts those after the subcommand too), then --help. */
  readonly options: readonly OptionSpec[];
  readonly arguments: readonly ArgumentSpec[];
  readonly subcommands: readonly CommandSpec[];
}

const choice = (...values: string[]): ValueSpec => ({ kind: 'choice', values });
const LEAF_PROFILES = choice('server', 'client', 'peer');

/**
 * Fixed values of options, by long name; `path --long` entries take precedence (ssh init has P-521 and no
 * RSA below 3072). Profile names beyond the built-ins live in a CA home's pki.json, unknown here.
 */
const OPTION_VALUES: Readonly<Record<string, ValueSpec>> = {
  '--kty': choice('EC', 'RSA', 'OKP'),
  '--crv': choice('P-256', 'P-384', 'Ed25519'),
  'ssh init --crv': choice('Ed25519', 'P-256', 'P-384', 'P-521'),
  '--size': choice('2048', '3072', '4096'),
  'ssh init --size': choice('3072', '4096'),
  '--reason': choice(...revocationReasons),
  '--purpose': choice('server', 'client', 'any'),
  '--profile': LEAF_PROFILES,
  '--starttls': choice('postgres', 'smtp'),
  '--key-mode': choice('0600', '0640'),
};

/** Value placeholders that name a path: `<file>`, `<cert>`, `<key>`, `<file-or-dir>`; `<dir>` a folder. */
function valueFromPlaceholder(name: string): ValueSpec {
  if (name === 'dir') return { kind: 'dir' };
  if (/file|^cert$|^key$/.test(name)) return { kind: 'file' };
  return { kind: 'text', name };
}

function optionSpec(option: Option, path: readonly string[]): OptionSpec {
  const long = option.long ?? option.flags;
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  const takesValue = option.required || option.optional;
  const fixed = option.argChoices ? choice(...option.argChoices) : (OPTION_VALUES[`${path.join(' ')} ${long}`] ?? OPTION_VALUES[long]);
  return {
    long,
    short: option.short ?? null,
    description: option.description,
    value: takesValue ? (fixed ?? valueFromPlaceholder(placeholder ?? 'value')) : null,
    repeatable: Array.isArray(option.defaultValue),
  };
}

function argumentSpec(argument: Argument, path: readonly string[]): ArgumentSpec {
  const name = argument.name();
  const value: ValueSpec = argument.argChoices
    ? choice(...argument.argChoices)
    : path.join(' ') === 'completion' && name === 'shell'
      ? choice('bash', 'zsh', 'fish')
      : /file|^target$/.test(name)
        ? { kind: 'file' }
        : { kind: 'text', name };
  return { name, description: argument.description, variadic: argument.variadic, value };
}

const HELP: OptionSpec = { long: '--help', short: '-h', description: 'display help for command', value: null, repeatable: false };
const VERSION: OptionSpec = { long: '--version', short: '-V', description: 'output the version number', value: null, repeatable: false };

function walk(command: Command, path: readonly string[], globals: readonly OptionSpec[]): CommandSpec {
  const own = command.options.filter((o) => !o.hidden && o.long !== '--version').map((o) => optionSpec(o, path));
  const ownNames = new Set(own.map((o) => o.long));
  const options = path.length === 0 ? [...own, VERSION, HELP] : [...own, ...globals.filter((g) => !ownNames.has(g.long)), HELP];
  return {
    path,
    description: command.description(),
    options,
    arguments: command.registeredArguments.map((a) => argumentSpec(a, path)),
    subcommands: command.commands.map((c) => walk(c, [...path, c.name()], globals)),
  };
}

/** The program as a tree of plain specs (root first). */
export function commandTree(program: Command): CommandSpec {
  const globals = program.options.filter((o) => !o.hidden && o.long !== '--version').map((o) => optionSpec(o, []));
  return walk(program, [], globals);
}

/** Every command of the tree, parents before their subcommands. */
export function allCommands(tree: CommandSpec): CommandSpec[] {
  return [tree, ...tree.subcommands.flatMap(allCommands)];
}

/** The one-line summary of a description (up to its first `; `), for menus that show one line per candidate. */
export function summary(description: string, max = 70): string {
  const first = description.split(/;\s/)[0]!.trim();
  return first.length <= max ? first : `${first.slice(0, max - 1).trimEnd()}…`;
}
