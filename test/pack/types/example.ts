// Type-checked (never run) by test/pack/types.test.js: `tsc --noEmit -p test/pack/types`.
// Every `@ts-expect-error` line must be an error, every other line must not.
// 'illumos_contract' resolves to index.d.ts through the package's own
// "exports" (a package may import itself by name).
import * as contract from 'illumos_contract';
import {
  Contract, type ContractError, type ProcessTemplate, type RunResult, type RunError,
  type PrForkEvent, type ContractEvent, type Features, type Usage, type SpawnEnd,
} from 'illumos_contract';

// ---- templates

const tmpl: ProcessTemplate = {
  type: 'process',
  critical: { pr_empty: true, pr_hwerr: true, pr_core: true },
  informative: { pr_fork: true, pr_exit: true },
  fatal: { pr_hwerr: true, pr_core: true },
  param: { noorphan: true },
  cookie: '0xdeadbeef',
};
contract.set_template(tmpl);
contract.set_template({ type: 'process', cookie: 42 });
contract.set_template({ type: 'process', cookie: 2n ** 63n, transfer: 0 });
contract.set_template({ type: 'process', svc_fmri: 'inherit:', svc_aux: '' });
contract.set_template({
  type: 'device', critical: { dev_offline: true }, dev_minor: '/dev/null',
  dev_aset: { online: true }, dev_noneg: false,
});
contract.clear_template('process');
contract.clear_template();

// @ts-expect-error an unknown event name in a template
contract.set_template({ type: 'process', critical: { pr_forks: true } });
// @ts-expect-error pr_empty can never be fatal
contract.set_template({ type: 'process', fatal: { pr_empty: true } });
// @ts-expect-error a device term in a process template
contract.set_template({ type: 'process', dev_minor: '/dev/null' });
// @ts-expect-error a device event in a process set
contract.set_template({ type: 'process', informative: { dev_online: true } });
// @ts-expect-error type is required
contract.set_template({ critical: { pr_empty: true } });
// @ts-expect-error cookies are strings, numbers or bigints
contract.set_template({ type: 'process', cookie: true });
// @ts-expect-error negend can never be a member
contract.set_template({ type: 'process', critical: { negend: true } });
// @ts-expect-error no such type
contract.clear_template('processes');

// ---- latest(), status(), events

const ct = contract.latest('process');
const st = ct.status();
const members: number[] = st.pr_members;
const inherited: number[] = st.pr_contracts;
const nevid: string = st.nevid;
const frozen: boolean | undefined = st.frozen;
const lost: number = st.lost;
const fatalCore: boolean = st.pr_fatal.pr_core;
const noorphan: boolean = st.pr_param.noorphan;
void members, inherited, nevid, frozen, lost, fatalCore, noorphan;
// status sets round-trip into templates
contract.set_template({ type: 'process', critical: st.critical,
  informative: st.informative, fatal: st.pr_fatal, param: st.pr_param });

const any = contract.latest();
const s2 = any.status();
// @ts-expect-error the type is not known: narrow first
void s2.pr_members;
if (s2.type === 'process') void s2.pr_members.length;
else void s2.dev_state;

ct.on('pr_fork', (ev) => {
  const e: PrForkEvent = ev;
  const n: number = ev.pid + ev.ppid + ev.ctid;
  const id: string = ev.evid;
  const f: boolean = ev.flags.info && !ev.flags.ack && !ev.flags.neg;
  void e, n, id, f;
});
ct.on('pr_exit', (ev) => void (ev.pid + ev.exitstatus));
ct.once('pr_empty', (ev) => {
  ct.ack(ev.evid);
  void ev.pid;
  ct.abandon();
  ct.removeAllListeners();
  ct.dispose();
});
ct.on('pr_core', (ev) => {
  // @ts-expect-error pr_core's signal is absent on illumos
  const bare: number = ev.signal;
  const sig: number | undefined = ev.signal;
  void bare;
  const core: string | undefined = ev.pcorefile ?? ev.gcorefile ?? ev.zcorefile;
  void sig, core;
});
ct.on('pr_signal', (ev) => {
  const from: number | undefined = ev.sender ?? ev.sender_ctid;
  void (ev.signal + ev.pid), from;
});
ct.on('pr_hwerr', (ev) => void ev.pid);
ct.on('pr_lost', (ev) => void (ev.forks + ev.exits));
ct.on('negend', (ev) => {
  const s: string = ev.nevid;
  const n: number = ev.newct;
  void s, n;
});
ct.on('dev_offline', (ev) => void ev.flags.neg);
ct.on('newListener', (name) => void name);
const onExit = (ev: contract.PrExitEvent) => void ev.exitstatus;
ct.on('pr_exit', onExit).off('pr_exit', onExit);
ct.prependListener('pr_fork', (ev) => void ev.ppid);
ct.addListener('pr_empty', (ev) => void ev.pid);
ct.removeListener('pr_exit', onExit);

// @ts-expect-error pr_fork has no exitstatus
ct.on('pr_fork', (ev) => void ev.exitstatus);
// @ts-expect-error pr_exit has no ppid
ct.on('pr_exit', (ev) => void ev.ppid);
// @ts-expect-error pr_empty has no signal
ct.once('pr_empty', (ev) => void ev.signal);
// @ts-expect-error no such event
ct.on('pr_forks', () => {});
// @ts-expect-error the listener of pr_fork does not take a pr_exit event
ct.on('pr_fork', onExit);
// @ts-expect-error evid is a string
ct.ack(3);

// the union of every event, discriminated by type
function describe(ev: ContractEvent): string {
  switch (ev.type) {
    case 'pr_fork': return `${ev.pid} forked by ${ev.ppid}`;
    case 'pr_exit': return `${ev.pid} exited ${ev.exitstatus}`;
    case 'pr_core': return `${ev.pid} dumped core (${ev.signal})`;
    case 'pr_lost': return `lost ${ev.forks} forks`;
    default: return ev.type;
  }
}
void describe;

// ---- control

ct.sigsend(9);
ct.sigsend('SIGTERM');
// @ts-expect-error not a signal name
ct.sigsend('SIGFOO');
const held: Contract<'process'> = ct.ref().unref();
void held;
async function control(c: Contract<'process'>): Promise<void> {
  const { forced } = await c.stop({ signal: 'SIGINT', timeout: 1000 });
  const f: boolean = forced;
  await c.stop();
  await c.freeze();
  await c.thaw();
  const u: Usage = c.usage();
  const cpu: number = u.userCPUTime + u.systemCPUTime + (u.memoryPeak ?? 0);
  void f, cpu;
}
void control;

try {
  ct.sigsend(0);
} catch (e) {
  const err = e as ContractError;
  if (err.errno === 3 || err.code === 'ESRCH') void err.syscall;
  // @ts-expect-error not an error code
  if (err.code === 'ESRCHH') void 0;
}

// ---- the rest of the module

const c2: Contract = contract.adopt(12);
const c3: Contract = contract.observe(12);
const c4 = new Contract(12, true);
const c5 = new contract.Contract();
void c2, c3, c4, c5;
contract.create();
const ids: number[] = contract.list();
void contract.list('device');
const backend: 'linux' | 'illumos' | 'none' = contract.backend;
const feats: Features = contract.features;
const root: string | null = feats.root;
const spawnHow: 'atfork' | 'shim' | 'kernel' | 'reaper' = feats.spawn;
const how: 'cgroup' | 'reaper' | null = feats.membership;
const canFork: boolean = feats.events.pr_fork;
void ids, backend, root, spawnHow, how, canFork, feats.rootError,
  feats.rootErrno;
// @ts-expect-error features is read-only (a const)
contract.features = feats;

// ---- spawn() and run()

const { child, contract: sct } = contract.spawn('sh', ['-c', 'sleep 1 &'], {
  stdio: 'ignore', template: { type: 'process', informative: { pr_fork: true } },
  timeout: 1000, killSignal: 'SIGKILL', forceKillAfterDelay: 100,
  signal: AbortSignal.timeout(500),
});
void child.pid;
if (sct !== null) void sct.status().pr_members;
contract.spawn('true');
contract.spawn('sleep', ['9'], { cleanup: false });
async function disposal(): Promise<void> {
  const c = contract.latest('process');
  c[Symbol.dispose]();
  await c[Symbol.asyncDispose]();
  const keeps: boolean = contract.features.holderDeath;
  void keeps;
}
void disposal;
// @ts-expect-error cleanup is a boolean
contract.spawn('true', [], { cleanup: 'yes' });
contract.spawn('true', { cwd: '/' });
// @ts-expect-error spawn() takes process templates only
contract.spawn('true', [], { template: { type: 'device' } });

async function spawnEnds(): Promise<void> {
  const { ended } = contract.spawn('sleep', ['9'], { timeout: 100 });
  if (ended !== null) {
    const { timedOut, aborted, forced }: SpawnEnd = await ended;
    void timedOut, aborted, forced;
  }
}
void spawnEnds;

async function runs(): Promise<void> {
  const r: RunResult = await contract.run('make', ['-j8'], { timeout: 60000 });
  const code: number | null = r.code;
  const sig: NodeJS.Signals | null = r.signal;
  const flags: boolean = r.timedOut || r.aborted || r.forced;
  const cpu: number | undefined = r.usage?.userCPUTime;
  void code, sig, flags, cpu, r.ctid, r.pid;
  await contract.run('true', { template: { critical: { pr_empty: true } } });
  const p = contract.run('sh', ['-c', 'echo hi'], { stdio: 'pipe', maxBuffer: 1 << 20 });
  if (p.child !== null) p.child.stdout?.pipe(process.stdout);
  if (p.contract !== null) p.contract.on('pr_exit', (ev) => void ev.exitstatus);
  const out: string | undefined = (await p).stdout;
  const bytes: Buffer | undefined = (await contract.run('true', [],
    { stdio: 'pipe', encoding: 'buffer' })).stdout;
  const latin: string | undefined = (await contract.run('true',
    { stdio: 'pipe', encoding: 'latin1' })).stderr;
  void out, bytes, latin;
  try {
    await contract.run('sleep', ['9'], { timeout: 10, signal: AbortSignal.timeout(5) });
  } catch (e) {
    const err = e as RunError;
    if (err.code === 'ETIMEDOUT' || err.code === 'ABORT_ERR') {
      const exit: number | null | undefined = err.exitCode;
      void exit, err.forced, err.ctid, err.cause;
    }
  }
  const f = await contract.run('cat', { stdio: 'pipe', input: 'hi', all: true,
    reject: false });
  const fcode: number | null = f.exitCode;
  const ms: number = f.durationMs;
  const cmd: string = f.command;
  const all: string | undefined = f.all;
  void fcode, ms, cmd, all;
  await contract.run('cat', [], { input: Buffer.from('x') });
  const q = contract.run('sleep', ['9']);
  const sent: boolean = q.kill('SIGINT');
  const { forced }: { forced: boolean } = await q.stop({ timeout: 100 });
  void sent, forced;
  {
    await using held = contract.run('sleep', ['9'], { stdio: 'ignore' });
    void held.contract;
  }
  try {
    await contract.run('false');
  } catch (e) {
    const err = e as RunError;
    if (err.code === 'ERR_CHILD_PROCESS_FAILED') {
      void err.exitCode, err.signal, err.command, err.durationMs, err.stdout;
    }
  }
  // @ts-expect-error encoding is a Buffer encoding, 'buffer' or null
  await contract.run('true', { encoding: 'utf-9' });
  // @ts-expect-error an unknown option (a typo of timeout)
  await contract.run('true', { timout: 500 });
  // @ts-expect-error an unknown option, after args
  await contract.run('true', [], { timout: 500 });
  // @ts-expect-error killSignal is a signal name or number
  await contract.run('true', { killSignal: 'SIGBOGUS' });
  // @ts-expect-error input is a string or bytes
  await contract.run('cat', { input: 5 });
  // @ts-expect-error run() results have no contract object
  void r.contract;
  // @ts-expect-error forceKillAfterDelay is a number
  await contract.run('true', [], { forceKillAfterDelay: '1s' });
}
void runs;
