/** `pki completion bash|zsh|fish`: a completion script generated from the commander definitions (issue 12; docs/completion.md). Stub until the completion work lands. */
import type { Command } from 'commander';
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export async function runCompletion(_shell: string, _program: Command, _g: GlobalOptions): Promise<void> {
  throw new PkiError('ERR_USAGE', 'pki completion is not implemented yet', { hint: 'see docs/completion.md' });
}
