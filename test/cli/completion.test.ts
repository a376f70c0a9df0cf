/**
 * Issue 12, point 4 / done-means 5 (completion part): `pki completion bash|zsh|fish` prints scripts that the
 * real shells accept (`bash -n`, `zsh -n`, `fish -n`) and that complete subcommands, nested subcommands,
 * options and their fixed values: bash through `complete -p` and the completion function with COMP_WORDS
 * set, fish through `complete -C`, zsh through compinit's registry and a real ZLE TAB on a pseudo-terminal.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pki, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { requirePeer } from '../helpers/peers.js';

const dir = tempDir('pki-completion-');
const scripts: Record<string, string> = {};
/** compinit's dump, shared by the zsh runs: a fresh compinit scan of $fpath takes seconds. */
const compdump = join(dir, 'zcompdump');

beforeAll(() => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = pki(['completion', shell]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    scripts[shell] = join(dir, `pki.${shell}`);
    writeFileSync(scripts[shell]!, r.stdout);
  }
});

function shell(command: string, args: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', input: input ?? '', timeout: 30_000, env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** COMPREPLY of the bash completion function for a command line whose last word is being completed. */
function bashComplete(words: readonly string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const r = shell('bash', ['--norc', '--noprofile', '-c', `source <(cat '${scripts.bash}'); COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _pki; printf '%s\\n' "\${COMPREPLY[@]}"`]);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** The candidates fish offers for a command line (the text before the cursor), without descriptions. */
function fishComplete(line: string): string[] {
  const r = shell('fish', ['--no-config', '-c', `source '${scripts.fish}'; complete -C '${line}'`]);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
}

describe('the scripts load in their shells', () => {
  it.each([
    ['bash', ['-n']],
    ['zsh', ['-n']],
    ['fish', ['-n']],
  ])('%s %s accepts the script', (name, flags) => {
    requirePeer(name);
    const r = shell(name, [...flags, scripts[name]!]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('an unknown shell is a usage error (exit 2, ERR_USAGE) and prints no script', () => {
    const r = pki(['completion', 'tcsh', '--json']);
    expectCliError(r, 'ERR_USAGE', 2);
    expect(r.stdout).not.toContain('complete');
  });
});

describe('bash', () => {
  it('registers _pki for pki (complete -p)', () => {
    const r = shell('bash', ['--norc', '--noprofile', '-c', `source <(cat '${scripts.bash}'); complete -p pki`]);
    expect(r.stdout.trim()).toBe('complete -F _pki pki');
  });

  it.each([
    [['pki', 'ge'], ['generate']],
    [['pki', 'ssh', 's'], ['sign']],
    [['pki', 'db', ''], ['export-index', 'migrate', 'rebuild']],
    [['pki', 'config', ''], ['show', 'validate']],
    [['pki', 'trust', 'u'], ['uninstall']],
    [['pki', 'generate', '--k'], ['--key-mode', '--kty']],
    [['pki', 'init', '--kty', ''], ['EC', 'OKP', 'RSA']],
    [['pki', '--dir', '/tmp', 'ssh', 'init', '--crv', 'P'], ['P-256', 'P-384', 'P-521']],
    [['pki', 'revoke', '--reason', 'key'], ['keyCompromise']],
    [['pki', 'verify', 'x.crt', '--purpose', ''], ['any', 'client', 'server']],
    [['pki', 'completion', ''], ['bash', 'fish', 'zsh']],
    [['pki', 'ssh', 'sign', '--pr'], ['--principal']],
  ])('%j → %j', (words, expected) => {
    expect(bashComplete(words)).toEqual(expected);
  });

  it('completes file names for file arguments and file options, and nothing for a service name', () => {
    expect(bashComplete(['pki', 'inspect', scripts.bash!.slice(0, -3)])).toEqual([scripts.bash]);
    expect(bashComplete(['pki', 'sign', 'a.csr', scripts.fish!.slice(0, -2)])).toEqual([scripts.fish]);
    expect(bashComplete(['pki', 'verify', 'x.crt', '--roots', scripts.zsh!.slice(0, -2)])).toEqual([scripts.zsh]);
    expect(bashComplete(['pki', 'generate', dir.slice(0, -1)])).toEqual([]);
  });

  it('offers every long option `pki ssh sign --help` lists (the script follows the commander definitions)', () => {
    const help = pki(['ssh', 'sign', '--help']).stdout.split('\nExamples:')[0]!; // the options, not the examples' words
    const listed = [...new Set([...help.matchAll(/(?<![\w-])--[a-z][\w-]*/g)].map((m) => m[0]))].sort();
    expect(listed.length).toBeGreaterThan(10);
    const offered = bashComplete(['pki', 'ssh', 'sign', '--']);
    for (const option of listed) expect(offered).toContain(option);
  });
});

describe('fish', () => {
  it.each([
    ['pki ge', ['generate']],
    ['pki ssh s', ['sign']],
    ['pki generate --k', ['--key-mode', '--kty']],
    ['pki init --kty ', ['EC', 'OKP', 'RSA']],
    ['pki --dir /tmp ssh init --crv P', ['P-256', 'P-384', 'P-521']],
    ['pki completion ', ['bash', 'fish', 'zsh']],
    ['pki db ', ['export-index', 'migrate', 'rebuild']],
  ])('complete -C "%s" → %j', (line, expected) => {
    requirePeer('fish');
    expect(fishComplete(line)).toEqual(expected);
  });

  it('completes files only where a file is asked for', () => {
    expect(fishComplete(`pki inspect ${scripts.fish!.slice(0, -2)}`)).toEqual([scripts.fish]);
    expect(fishComplete(`pki generate ${scripts.fish!.slice(0, -2)}`)).toEqual([]);
  });
});

/**
 * Types into an interactive `zsh -f` on a pseudo-terminal: loads compinit and the script, types `line`
 * and TAB, then Ctrl-A `echo ` Enter, so the completed line is printed back as plain text.
 */
function zshTab(line: string): string {
  const driver = String.raw`
import os, pty, select, sys, time
script, line, dump = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.environ['TERM'] = 'xterm'
    os.execvp('zsh', ['zsh', '-f', '-i'])
out = b''
def pump(seconds, prompts=None):
    # Reads until the prompt has been drawn this many times (or the shell has gone, or time is up).
    global out
    end = time.time() + seconds
    while time.time() < end and not (prompts and out.count(b'READY> ') >= prompts):
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                return
# The prompt is spelt apart so that the echo of this line does not look like it.
os.write(fd, ("bindkey -e; autoload -U compinit; compinit -u -d " + dump + "; source " + script + "; PS1='REA''DY> '\r").encode())
pump(15, 1)
os.write(fd, line.encode() + b'\t')
pump(1)
os.write(fd, b'\x01echo \r')
pump(10, 2)
os.write(fd, b'exit\r')
pump(5)
sys.stdout.write(out.decode('utf-8', 'replace'))
`;
  const r = spawnSync('python3', ['-c', driver, scripts.zsh!, line, compdump], { encoding: 'utf8', timeout: 40_000, env: { ...process.env, HOME: dir, ZDOTDIR: dir } });
  return r.stdout;
}

describe('zsh', () => {
  it('registers _pki with compdef after compinit', () => {
    requirePeer('zsh');
    const r = shell('zsh', ['-f', '-c', `autoload -U compinit; compinit -u -d '${compdump}'; source '${scripts.zsh}'; print -r -- "$_comps[pki]"; whence -w _pki__ssh__sign`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['_pki', '_pki__ssh__sign: function', '']);
  });

  it.each([
    ['pki ssh s', 'pki ssh sign'],
    ['pki init --kty R', 'pki init --kty RSA'],
    ['pki completion f', 'pki completion fish'],
  ])('TAB on "%s" gives "%s"', (line, completed) => {
    requirePeer('zsh');
    const printed = zshTab(line).split(/\r?\n/).map((l) => l.trim());
    expect(printed).toContain(completed);
  });
});
