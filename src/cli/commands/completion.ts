/**
 * `pki completion bash|zsh|fish`: the completion script for the shell, generated from the commander
 * definitions (cli/completion/tree.ts walks them; one pure builder per shell), on stdout. docs/completion.md.
 */
import type { Command } from 'commander';
import { PkiError } from '../../core/errors.js';
import { bashCompletionScript } from '../completion/bash.js';
import { fishCompletionScript } from '../completion/fish.js';
import { commandTree, type CommandSpec } from '../completion/tree.js';
import { zshCompletionScript } from '../completion/zsh.js';
import type { GlobalOptions } from '../output.js';

const GENERATORS: Readonly<Record<string, (tree: CommandSpec) => string>> = {
  bash: bashCompletionScript,
  zsh: zshCompletionScript,
  fish: fishCompletionScript,
};

export async function runCompletion(shell: string, program: Command, _g: GlobalOptions): Promise<void> {
  const generate = Object.hasOwn(GENERATORS, shell) ? GENERATORS[shell] : undefined;
  if (!generate) {
    throw new PkiError('ERR_USAGE', `no completion for shell "${shell}"`, { hint: 'use one of: pki completion bash, pki completion zsh, pki completion fish' });
  }
  // Even with --json: the script is the output (a JSON-wrapped script could not be sourced).
  process.stdout.write(generate(commandTree(program)));
}
