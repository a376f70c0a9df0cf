/**
 * Runs the built CLI on a real pseudo-terminal (python3's pty/termios: no extra package), so prompts
 * without echo, Ctrl-C and terminal restoration are tested as an operator meets them. Each step waits for
 * a piece of output (its next occurrence), then types its input. Every wait is bounded by one deadline.
 */
import { spawnSync } from 'node:child_process';
import { PKI_BIN } from './cli.js';

export interface PtyStep {
  /** Text to wait for, e.g. the prompt. */
  readonly expect: string;
  /** Bytes to type once it appeared: "\r" is Enter, "\x03" is Ctrl-C. */
  readonly send: string;
}

export interface PtyResult {
  /** Exit code; 128 + N when killed by signal N. */
  readonly code: number;
  /** stdout and stderr as the terminal showed them. */
  readonly output: string;
  /** Terminal modes after the process ended: both true once pki has restored the terminal. */
  readonly echo: boolean;
  readonly canonical: boolean;
  /** The steps whose text appeared (all of them unless the run ended early or timed out). */
  readonly stepsDone: number;
  readonly timedOut: boolean;
}

const DRIVER = String.raw`
import fcntl, json, os, select, subprocess, sys, termios, time
cfg = json.loads(sys.stdin.read())
master, slave = os.openpty()
def controlling_tty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen(cfg['argv'], stdin=slave, stdout=slave, stderr=slave, env=cfg['env'], preexec_fn=controlling_tty, close_fds=True)
out = b''
steps = cfg['steps']
done = 0
seen = {}
deadline = time.time() + cfg['timeout']
timed_out = False
while True:
    readable, _, _ = select.select([master], [], [], 0.05)
    if readable:
        out += os.read(master, 65536)
        continue
    if done < len(steps):
        text = steps[done]['expect'].encode()
        wanted = seen.get(text, 0) + 1
        if out.count(text) >= wanted:
            seen[text] = wanted
            os.write(master, steps[done]['send'].encode())
            done += 1
            continue
    if p.poll() is not None:
        break
    if time.time() > deadline:
        timed_out = True
        p.kill()
        p.wait()
        break
lflag = termios.tcgetattr(slave)[3]
code = p.returncode if p.returncode >= 0 else 128 - p.returncode
print(json.dumps({'code': code, 'output': out.decode('utf-8', 'replace'), 'echo': bool(lflag & termios.ECHO), 'canonical': bool(lflag & termios.ICANON), 'stepsDone': done, 'timedOut': timed_out}))
`;

/** Runs `pki …args` on a fresh pty (echo and canonical mode on, as a login terminal starts). */
export function pkiInPty(args: readonly string[], steps: readonly PtyStep[], env: NodeJS.ProcessEnv = {}, timeoutSeconds = 60): PtyResult {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  delete childEnv.PKI_DIR;
  if (!('PKI_PASSWORD' in env)) delete childEnv.PKI_PASSWORD;
  const r = spawnSync('python3', ['-c', DRIVER], {
    input: JSON.stringify({ argv: [process.execPath, PKI_BIN, ...args], env: childEnv, steps, timeout: timeoutSeconds }),
    encoding: 'utf8',
    timeout: (timeoutSeconds + 30) * 1000,
  });
  if (r.error || r.status !== 0) throw new Error(`pty driver failed (python3 is needed: apt-get install python3): ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}
