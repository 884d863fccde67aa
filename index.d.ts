// Type definitions for illumos_contract 2.x.
//
// Hand-written, with literal types for every name the library accepts or
// reports; checked by test/pack/types.test.js (tsc --noEmit, strict) against
// test/pack/types/example.ts.  Needs @types/node (EventEmitter, SpawnOptions,
// NodeJS.Signals).  The same declarations serve require() and import:
// index.mjs re-exports index.js, and its default export is the CommonJS
// module object.

/// <reference types="node" />

import { EventEmitter } from 'node:events';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

// ---------------------------------------------------------------- names

/** The two contract types of illumos (`contract(5)`). */
export type ContractType = 'process' | 'device';

/** Process contract events (`process(5)`): the names of template sets. */
export type ProcessEventName =
  | 'pr_empty' | 'pr_fork' | 'pr_exit' | 'pr_core' | 'pr_signal' | 'pr_hwerr';

/** The process events that may be fatal (`template.fatal`). */
export type FatalEventName = 'pr_core' | 'pr_signal' | 'pr_hwerr';

/** Device contract events (`device_contract(5)`). */
export type DeviceEventName = 'dev_online' | 'dev_degraded' | 'dev_offline';

/**
 * Every event name a `Contract` emits: the event names of both types,
 * `negend` (end of a device negotiation) and the Linux extension `pr_lost`.
 */
export type ContractEventName =
  | ProcessEventName | DeviceEventName | 'negend' | 'pr_lost';

/** Process contract parameters (`template.param`, `status().pr_param`). */
export type ProcessParamName = 'inherit' | 'noorphan' | 'pgrponly' | 'regent';

/** Device states (`template.dev_aset`, `status().dev_state`). */
export type DeviceStateName = 'online' | 'degraded' | 'offline';

/** `status().state`. */
export type ContractState = 'owned' | 'inherited' | 'orphan' | 'dead';

/** How children get into their contract (`features.spawn`). */
export type SpawnMechanism = 'atfork' | 'shim' | 'kernel' | 'reaper';

/** The backend this build uses. */
export type Backend = 'linux' | 'illumos' | 'none';

/**
 * A 64-bit cookie: a decimal or `0x` hex string (the only way to write
 * all 64 bits), a number up to `Number.MAX_SAFE_INTEGER`, or a bigint.
 */
export type Cookie = string | number | bigint;

/** A signal: a number, or a name such as `'SIGTERM'`. */
export type Signal = number | NodeJS.Signals;

// ------------------------------------------------------------ templates

/**
 * A set of process events: `{pr_fork: true, ...}`.  A given set replaces
 * the default; `false` is the same as absent.  `negend` is a name of
 * every type but can never be a member (`negend: true` throws).
 */
export type ProcessEventSet =
  Partial<Record<ProcessEventName, boolean>> & { negend?: false };

/** The fatal set: only `pr_core`, `pr_signal`, `pr_hwerr` may be true. */
export type FatalEventSet =
  Partial<Record<FatalEventName, boolean>> &
  Partial<Record<Exclude<ProcessEventName, FatalEventName> | 'negend', false>>;

/** A set of device events. */
export type DeviceEventSet =
  Partial<Record<DeviceEventName, boolean>> & { negend?: false };

/** Process contract parameters: `{noorphan: true, ...}`. */
export type ProcessParamSet = Partial<Record<ProcessParamName, boolean>>;

/** Acceptable device states: one or two of the three. */
export type DeviceStateSet = Partial<Record<DeviceStateName, boolean>>;

/**
 * A process contract template.  Terms not given keep the illumos
 * defaults: critical `{pr_empty, pr_hwerr}`, informative
 * `{pr_core, pr_signal}`, fatal `{pr_hwerr}`.  Unknown keys or names and
 * wrong types throw `TypeError`, out-of-range numbers `RangeError`.
 */
export interface ProcessTemplate {
  type: 'process';
  /** Events that must be acknowledged (`ack(evid)`). */
  critical?: ProcessEventSet;
  /** Events delivered without acknowledgement. */
  informative?: ProcessEventSet;
  cookie?: Cookie;
  /** Events that kill the whole contract (or its process group). */
  fatal?: FatalEventSet;
  param?: ProcessParamSet;
  /** A ctid whose inherited contracts move to the new one; 0 for none. */
  transfer?: number;
  /** `'inherit:'` (the default) inherits the creator's FMRI. */
  svc_fmri?: string;
  svc_aux?: string;
}

/** A device contract template (`create()`). */
export interface DeviceTemplate {
  type: 'device';
  critical?: DeviceEventSet;
  informative?: DeviceEventSet;
  cookie?: Cookie;
  dev_minor?: string;
  /** The acceptable states: one or two of online, degraded, offline. */
  dev_aset?: DeviceStateSet;
  dev_noneg?: boolean;
}

export type Template = ProcessTemplate | DeviceTemplate;

// --------------------------------------------------------------- status

/** A status event set: every name of the type; `negend` is always false. */
export type ProcessEventFlags = Record<ProcessEventName, boolean> & { negend: false };
export type DeviceEventFlags = Record<DeviceEventName, boolean> & { negend: false };

interface StatusBase {
  ctid: number;
  zoneid: number;
  state: ContractState;
  /** The holder's pid, the regent's ctid, or 0. */
  holder: number;
  /** Unacknowledged critical events. */
  nevents: number;
  ntime: number;
  qtime: number;
  /** Decimal string: event ids are 64-bit. */
  nevid: string;
  /** Decimal string of the 64-bit cookie. */
  cookie: string;
  /** Linux extension: whether the contract is frozen; absent without a freezer (illumos). */
  frozen?: boolean;
  /** Linux extension: events the kernel dropped; 0 on illumos. */
  lost: number;
}

export interface ProcessStatus extends StatusBase {
  type: 'process';
  critical: ProcessEventFlags;
  informative: ProcessEventFlags;
  pr_param: Record<ProcessParamName, boolean>;
  pr_fatal: Record<FatalEventName, boolean> &
    Record<Exclude<ProcessEventName, FatalEventName> | 'negend', false>;
  /** Member pids (always an Array). */
  pr_members: number[];
  /** Inherited contract ids (always an Array). */
  pr_contracts: number[];
  pr_svc_fmri: string;
  pr_svc_aux: string;
  pr_svc_ctid: number;
  pr_svc_creator: string;
}

export interface DeviceStatus extends StatusBase {
  type: 'device';
  critical: DeviceEventFlags;
  informative: DeviceEventFlags;
  dev_state: DeviceStateName;
  dev_aset: Record<DeviceStateName, boolean>;
  dev_minor: string;
  dev_noneg: boolean;
}

export type ContractStatus = ProcessStatus | DeviceStatus;

/** The status of a contract of type T. */
export type StatusOf<T extends ContractType> =
  T extends 'process' ? ProcessStatus :
  T extends 'device' ? DeviceStatus : never;

// --------------------------------------------------------------- events

export interface EventFlags {
  /** Informative (false: critical, counted until `ack(evid)`). */
  info: boolean;
  /** Already acknowledged. */
  ack: boolean;
  /** A negotiation event (device contracts). */
  neg: boolean;
}

/** What every event object carries. */
export interface ContractEventBase<N extends ContractEventName = ContractEventName> {
  ctid: number;
  /** Decimal string (64-bit); pass it to `ack()`. */
  evid: string;
  type: N;
  flags: EventFlags;
}

export interface PrForkEvent extends ContractEventBase<'pr_fork'> {
  pid: number;
  ppid: number;
}

export interface PrExitEvent extends ContractEventBase<'pr_exit'> {
  pid: number;
  /** The raw wait status. */
  exitstatus: number;
}

export interface PrEmptyEvent extends ContractEventBase<'pr_empty'> {
  /** The last member. */
  pid: number;
}

export interface PrCoreEvent extends ContractEventBase<'pr_core'> {
  pid: number;
  /**
   * The signal that dumped core.  Absent on illumos: libcontract has no
   * getter for it on pr_core (docs/illumos.md, "What differs from Linux").
   */
  signal?: number;
  /** Core file paths where written (illumos). */
  pcorefile?: string;
  gcorefile?: string;
  zcorefile?: string;
}

export interface PrSignalEvent extends ContractEventBase<'pr_signal'> {
  pid: number;
  signal: number;
  /** The sender's pid where known (Linux: only when this process sent it). */
  sender?: number;
  /** The sender's contract where known (illumos). */
  sender_ctid?: number;
}

export interface PrHwerrEvent extends ContractEventBase<'pr_hwerr'> {
  pid: number;
}

/** Linux extension: the kernel dropped events; counts are lower bounds. */
export interface PrLostEvent extends ContractEventBase<'pr_lost'> {
  forks: number;
  exits: number;
}

export interface NegendEvent extends ContractEventBase<'negend'> {
  /** Decimal string: the id of the negotiation event that ended. */
  nevid: string;
  /** The contract that replaced this one, or this one's ctid. */
  newct: number;
}

export interface DevOnlineEvent extends ContractEventBase<'dev_online'> {}
export interface DevDegradedEvent extends ContractEventBase<'dev_degraded'> {}
export interface DevOfflineEvent extends ContractEventBase<'dev_offline'> {}

/** The event object each event name delivers. */
export interface ContractEventMap {
  pr_fork: PrForkEvent;
  pr_exit: PrExitEvent;
  pr_empty: PrEmptyEvent;
  pr_core: PrCoreEvent;
  pr_signal: PrSignalEvent;
  pr_hwerr: PrHwerrEvent;
  pr_lost: PrLostEvent;
  negend: NegendEvent;
  dev_online: DevOnlineEvent;
  dev_degraded: DevDegradedEvent;
  dev_offline: DevOfflineEvent;
}

export type ContractEvent = ContractEventMap[keyof ContractEventMap];

export type ContractListener<K extends keyof ContractEventMap> =
  (ev: ContractEventMap[K]) => void;

/** EventEmitter's own events. */
type MetaEventName = 'newListener' | 'removeListener';
type MetaListener =
  (eventName: string | symbol, listener: (...args: any[]) => void) => void;

// ------------------------------------------------------------- Contract

/** One process of a traced contract (docs/trace.md). */
export interface TraceRecord {
  pid: number;
  ppid: number;
  /** As of its last exec. */
  argv: string[];
  /** Ms since the epoch. */
  startTime: number;
  /** null while it runs. */
  endTime: number | null;
  exitCode: number | null;
  /** Its name, or its number where Node has no name for it (SIGRTMIN+n). */
  signal: Signal | null;
  /** Present (true) when it was killed by a signal and dumped core. */
  coreDumped?: true;
  /** µs, as in `usage()`; null where it could not be read. */
  userCPUTime: number | null;
  systemCPUTime: number | null;
  /** What could not be seen of it, when something was missed. */
  missed?: Array<'argv' | 'cpu' | 'exit' | 'fork'>;
  /** When it exec'd, ms since the epoch, oldest first (`[]`: never). */
  execTimes: number[];
}

/**
 * `ct.trace()` and `run()`'s `processes`: the records, and (a property that
 * is not an element, present only when non-zero) how many times the kernel
 * dropped messages while the contract was traced (docs/trace.md).
 */
export type TraceRecords = TraceRecord[] & { readonly lost?: number };

export interface Member {
  pid: number;
  ppid: number;
  /** The kernel's short command name. */
  comm: string;
  /** From /proc/<pid>/cmdline; `[]` for a zombie. */
  argv: string[];
  /** One-letter process state ('R', 'S', 'Z', ...). */
  state: string;
  /** Start time, ms since the epoch. */
  startTime: number;
}

export interface WhenEmptyOptions {
  signal?: AbortSignal;
  timeout?: number;
}

export interface StopOptions {
  /** Sent to every member first (default `'SIGTERM'`). */
  signal?: Signal;
  /** Ms to wait for the contract to empty before SIGKILL (default 5000). */
  timeout?: number;
}

export interface StopResult {
  /** Whether SIGKILL was needed. */
  forced: boolean;
}

/** CPU time in microseconds of every member that ever ran. */
export interface Usage {
  userCPUTime: number;
  systemCPUTime: number;
  /** Bytes, where the memory controller is enabled. */
  memoryCurrent?: number;
  memoryPeak?: number;
}

/**
 * A contract: an EventEmitter of its events.  The type parameter is the
 * contract type where it is known statically (`spawn()`, `latest('process')`).
 */
export class Contract<T extends ContractType = ContractType> extends EventEmitter {
  /** The newest contract this thread created (as `latest()`). */
  constructor();
  /** Observe contract `ctid`, or adopt it when `adopt` is true. */
  constructor(ctid: number, adopt?: boolean);

  readonly ctid: number;

  status(): StatusOf<T>;
  /** Give the contract up (with `noorphan` its members are killed). */
  abandon(): void;
  /** Acknowledge a critical event. */
  ack(evid: string): void;
  /** Device negotiation; process contracts throw ESRCH. */
  nack(evid: string): void;
  qack(evid: string): void;
  /** Signal every member; ESRCH when there is none. */
  sigsend(signal: Signal): void;
  /**
   * Let this Contract keep the event loop alive (the default): it does while
   * it is held or observed, not yet empty, and has an event listener.
   */
  ref(): this;
  unref(): this;
  /**
   * Close everything; later calls throw `ERR_CONTRACT_DISPOSED` (adding a
   * listener too), except `dispose()` itself, which then does nothing.
   */
  dispose(): void;
  /** The live members now (Linux; illumos: from psinfo). */
  members(): Member[];
  /**
   * With `trace: true` in `spawn()`/`run()`: one record per process that was
   * ever a member (docs/trace.md); `lost` counts messages the kernel dropped.
   */
  trace(): TraceRecords;
  /**
   * Resolves once the contract is empty (at once if it already is);
   * rejects with an AbortError (`ABORT_ERR`) on `signal`, `ETIMEDOUT` on
   * `timeout` ms.
   */
  whenEmpty(options?: WhenEmptyOptions): Promise<{ ctid: number }>;
  /** `using`: dispose (nothing if already disposed). */
  [Symbol.dispose](): void;
  /** `await using`: `stop()` the tree this process holds, then dispose. */
  [Symbol.asyncDispose](): Promise<void>;

  /** Signal every member, wait for the contract to empty, SIGKILL the rest. */
  stop(options?: StopOptions): Promise<StopResult>;
  /** Stop every member (Linux; ENOTSUP on illumos). */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  usage(): Usage;

  on<K extends keyof ContractEventMap>(event: K, listener: ContractListener<K>): this;
  on(event: MetaEventName, listener: MetaListener): this;
  once<K extends keyof ContractEventMap>(event: K, listener: ContractListener<K>): this;
  once(event: MetaEventName, listener: MetaListener): this;
  off<K extends keyof ContractEventMap>(event: K, listener: ContractListener<K>): this;
  off(event: MetaEventName, listener: MetaListener): this;
  addListener<K extends keyof ContractEventMap>(event: K, listener: ContractListener<K>): this;
  addListener(event: MetaEventName, listener: MetaListener): this;
  removeListener<K extends keyof ContractEventMap>(event: K, listener: ContractListener<K>): this;
  removeListener(event: MetaEventName, listener: MetaListener): this;
  prependListener<K extends keyof ContractEventMap>(event: K, listener: ContractListener<K>): this;
  prependListener(event: MetaEventName, listener: MetaListener): this;
  prependOnceListener<K extends keyof ContractEventMap>(event: K, listener: ContractListener<K>): this;
  prependOnceListener(event: MetaEventName, listener: MetaListener): this;
  removeAllListeners(event?: ContractEventName | MetaEventName): this;
}

// ------------------------------------------------------ spawn() and run()

/** Whole-tree control shared by `spawn()` and `run()`. */
interface TreeControl {
  /** Ms after which the whole contract is stopped. */
  timeout?: number;
  /** Aborting stops the whole contract. */
  signal?: AbortSignal;
  /** The signal `stop()` sends first (default `'SIGTERM'`). */
  killSignal?: Signal;
  /** Ms `stop()` waits before SIGKILL (default 5000). */
  forceKillAfterDelay?: number;
  /**
   * The tree dies with this process (`param.noorphan`; default true).  A
   * template that gives `param` decides for itself.
   */
  cleanup?: boolean;
  /** Record every process of the tree: `ct.trace()`, `run()`'s `processes`. */
  trace?: boolean;
}

export interface ContractSpawnOptions extends SpawnOptions, TreeControl {
  /** The template of the new contract (default `{type: 'process'}`). */
  template?: ProcessTemplate;
}

/** How a `spawn()` tree with a `timeout` or `signal` ended. */
export interface SpawnEnd {
  /** The timeout fired and stopped the tree. */
  timedOut: boolean;
  /** The signal aborted (before the call too: then nothing was started). */
  aborted: boolean;
  /** SIGKILL was needed after `killSignal`. */
  forced: boolean;
}

export interface SpawnResult {
  /** A ChildProcess that never ran (pid undefined) if `signal` was aborted. */
  child: ChildProcess;
  /**
   * null when the program could not be started or the signal was aborted
   * before the call (no contract is left).
   */
  contract: Contract<'process'> | null;
  /**
   * With a `timeout` or `signal`: settles once the contract is empty (or
   * disposed), never rejects.  null without either.
   */
  ended: Promise<SpawnEnd> | null;
}

/** A process template whose `type` may be left out. */
export type RunTemplate = Omit<ProcessTemplate, 'type'> & { type?: 'process' };

/** How `run()` decodes piped output: a Buffer encoding, or Buffers. */
export type RunEncoding = BufferEncoding | 'buffer' | null;

export interface RunOptions extends SpawnOptions, TreeControl {
  /** Merged over `{type: 'process', critical: {pr_empty: true}}`. */
  template?: RunTemplate;
  /** Piped stdout/stderr decoding (default `'utf8'`). */
  encoding?: RunEncoding;
  /** Bytes of stdout or stderr after which the tree is stopped (1 MiB). */
  maxBuffer?: number;
  /** false: a non-zero exit or a signal resolves (default true: rejects). */
  reject?: boolean;
  /** Written to stdin, which is then closed (stdin becomes a pipe). */
  input?: string | Uint8Array;
  /** Add `all`: stdout and stderr interleaved as they arrived. */
  all?: boolean;
}

/** `run()` options that give Buffers for stdout/stderr. */
export type RunBufferOptions = RunOptions & { encoding: 'buffer' | null };

/** What the whole tree wrote to piped stdout/stderr. */
export interface RunOutput<Out extends string | Buffer = string> {
  /** Present when stdout was piped. */
  stdout?: Out;
  /** Present when stderr was piped. */
  stderr?: Out;
  /** With `all: true` (and stdout or stderr piped): both, interleaved. */
  all?: Out;
}

export interface RunResult<Out extends string | Buffer = string>
  extends RunOutput<Out> {
  ctid: number;
  pid: number;
  /** Exit code of the first child, or null (killed by a signal). */
  exitCode: number | null;
  /** The same as `exitCode`. */
  code: number | null;
  /** The signal that killed the first child, or null. */
  signal: NodeJS.Signals | null;
  /** Always false here: a timeout rejects (`RunError`, code `'ETIMEDOUT'`). */
  timedOut: boolean;
  /** Always false here: an abort rejects (`RunError`, an `AbortError`). */
  aborted: boolean;
  /** Whether SIGKILL was needed after `killSignal`. */
  forced: boolean;
  /** Ms from the call until the whole tree was gone. */
  durationMs: number;
  /** The program and its arguments, quoted as a POSIX shell takes them. */
  command: string;
  /** Where the host has it (not on illumos). */
  usage?: Usage | undefined;
  /** With `trace: true`: every process of the tree (`ct.trace()`). */
  processes?: TraceRecords;
}

/**
 * Why `run()` rejected: the first child exited non-zero or was killed by a
 * signal (`'ERR_CHILD_PROCESS_FAILED'`; not with `reject: false`), or the
 * tree was stopped before it ended by itself: an abort (`name`
 * `'AbortError'`, `code` `'ABORT_ERR'`, `cause` the signal's reason), a
 * timeout (`'ETIMEDOUT'`), output past `maxBuffer` (a RangeError,
 * `'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'`).  Rejected once the whole tree is
 * gone, with the result's fields; none of them when the signal was aborted
 * before the call (nothing was started).
 */
export interface RunError<Out extends string | Buffer = string>
  extends Error, RunOutput<Out> {
  code: 'ERR_CHILD_PROCESS_FAILED' | 'ABORT_ERR' | 'ETIMEDOUT' |
    'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
  cause?: unknown;
  ctid?: number;
  pid?: number;
  /** Exit code of the first child, or null. */
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  timedOut?: boolean;
  aborted?: boolean;
  forced?: boolean;
  durationMs?: number;
  command?: string;
  usage?: Usage | undefined;
  /** With `trace: true`: every process of the tree (`ct.trace()`). */
  processes?: TraceRecords;
}

/**
 * What `run()` returns: the promise, with the child and its contract, and
 * whole-tree control (`await using p = run(...)` stops the tree).
 */
export interface RunPromise<Out extends string | Buffer = string>
  extends Promise<RunResult<Out>> {
  /** null when nothing was started (a signal aborted before the call). */
  readonly child: ChildProcess | null;
  /** null when nothing was started; disposed once the promise settles. */
  readonly contract: Contract<'process'> | null;
  /** Signal every member; false when there is no tree (any more). */
  kill(signal?: Signal): boolean;
  /** `Contract.stop()`, with run()'s `killSignal`/`forceKillAfterDelay`. */
  stop(options?: StopOptions): Promise<StopResult>;
  /** `await using`: `stop()`, then wait until the promise has settled. */
  [Symbol.asyncDispose](): Promise<void>;
}

// ------------------------------------------------------------- features

/** What this host and privilege level deliver (`features`). */
export interface Features {
  backend: Backend;
  /** The contract root in use, or null. */
  root: string | null;
  /** Why there is no usable root. */
  rootError?: string;
  rootErrno?: number;
  /** The root lives in a cgroup delegated to this user. */
  delegated: boolean;
  freeze: boolean;
  usage: boolean;
  memory: boolean;
  /** Which process events can be delivered. */
  events: ProcessEventFlags;
  devices: boolean;
  /**
   * Whether a holder's death applies the contract's terms at once (noorphan
   * kills, inherit hands over, else orphan): illumos's kernel, or the
   * Linux `ct-keeper`.  False: applied by the next process that loads the
   * library on that contract root.
   */
  holderDeath: boolean;
  /**
   * Whether `trace: true` can record every process of a tree (docs/trace.md):
   * Linux with the proc connector (false in a container's own network
   * namespace, where `trace: true` throws `ENOTSUP`); illumos from the
   * contract's `pr_fork`/`pr_exit` and `/proc` (no exec times, argv 80 bytes).
   */
  trace: boolean;
  spawn: SpawnMechanism;
  /**
   * Linux: how membership is kept — a cgroup v2 directory, or a subreaper
   * anchor where no cgroup can be written.  null on illumos and where
   * there is no usable root.
   */
  membership: 'cgroup' | 'reaper' | null;
}

// --------------------------------------------------------------- errors

/** The `code` of an Error from the system (the name of its errno). */
export type SystemErrorCode =
  | 'EPERM' | 'ENOENT' | 'ESRCH' | 'EINTR' | 'EIO' | 'ENXIO' | 'E2BIG'
  | 'ENOEXEC' | 'EBADF' | 'ECHILD' | 'EAGAIN' | 'ENOMEM' | 'EACCES'
  | 'EFAULT' | 'EBUSY' | 'EEXIST' | 'EXDEV' | 'ENODEV' | 'ENOTDIR'
  | 'EISDIR' | 'EINVAL' | 'ENFILE' | 'EMFILE' | 'ENOTTY' | 'EFBIG'
  | 'ENOSPC' | 'ESPIPE' | 'EROFS' | 'EMLINK' | 'EPIPE' | 'EDOM'
  | 'ERANGE' | 'EDEADLK' | 'ENAMETOOLONG' | 'ENOLCK' | 'ENOSYS'
  | 'ENOTEMPTY' | 'ELOOP' | 'ENOMSG' | 'EIDRM' | 'ENODATA' | 'ENOTSUP'
  | 'EOVERFLOW' | 'ETIMEDOUT' | 'ENOBUFS' | 'EPROTONOSUPPORT'
  | 'EAFNOSUPPORT' | 'ECONNREFUSED' | 'EADDRINUSE' | 'ECANCELED'
  | 'EOWNERDEAD' | 'EBADMSG' | 'EOPNOTSUPP' | 'EWOULDBLOCK' | 'EUNKNOWN';

/** The `code` of a TypeError / RangeError about an argument. */
export type ArgumentErrorCode =
  | 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE'
  | 'ERR_UNKNOWN_SIGNAL';

/** Every `code` the library throws or rejects with. */
export type ContractErrorCode =
  | SystemErrorCode | ArgumentErrorCode
  | 'ERR_CONTRACT_DISPOSED' // a call on a disposed Contract
  | 'ABORT_ERR' // spawn() with an aborted signal; run() aborted
  // (and 'ETIMEDOUT': run() stopped by its timeout)
  | 'ERR_CHILD_PROCESS_FAILED' // run(): a non-zero exit or a signal
  | 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'; // run() output past maxBuffer

/**
 * An Error from the system: `code` is the errno's name, `errno` the
 * positive number (1.0.3 users test `err.errno === 3` for ESRCH),
 * `syscall` what failed; the message says what was attempted.
 */
export interface ContractError extends Error {
  code: SystemErrorCode;
  errno: number;
  syscall: string;
}

/** A TypeError or RangeError about an argument or a template. */
export interface ContractArgumentError extends Error {
  code: ArgumentErrorCode;
}

// ------------------------------------------------------------ functions

/**
 * Activate template `t` for the calling thread; replaces the active
 * template of the same type only.
 */
export function set_template(t: Template): void;

/** Remove the active template of `type`, or all. */
export function clear_template(type?: ContractType): void;

/**
 * The newest contract this thread created (ESRCH if none); the type of the
 * last `set_template()` unless given.
 */
export function latest(type: 'process'): Contract<'process'>;
export function latest(type: 'device'): Contract<'device'>;
export function latest(type?: ContractType): Contract;

/** Device contracts: create one from the active device template; then `latest('device')`. */
export function create(): void;

/**
 * Take over a contract whose holder died. Per backend: illumos adopts only
 * a contract inherited by the regent contract this process is a member of
 * (an orphan throws `EACCES`); Linux an orphaned or inherited contract this
 * uid made (root: any; `EPERM` otherwise). docs/illumos.md, "Adoption".
 */
export function adopt(ctid: number): Contract;

/** Status and events of a contract, without control. */
export function observe(ctid: number): Contract;

/** `child_process.spawn` in a fresh contract. */
// Overloads with args come first: when a call matches none, tsc reports
// the last one that takes as many arguments, and `run(cmd, opts)`'s
// mistakes should be reported against the options, not as an options
// object that is no string array.
export function spawn(command: string, args?: readonly string[] | null,
  options?: ContractSpawnOptions): SpawnResult;
export function spawn(command: string, options?: ContractSpawnOptions): SpawnResult;

/**
 * Spawn in a fresh contract; resolves when the whole tree is gone by
 * itself, rejects (`RunError`) on a non-zero exit or a signal (unless
 * `reject: false`), or when an abort, a timeout or `maxBuffer` stopped it.
 */
export function run(command: string, args: readonly string[] | null | undefined,
  options: RunBufferOptions): RunPromise<Buffer>;
export function run(command: string, options: RunBufferOptions): RunPromise<Buffer>;
export function run(command: string, args?: readonly string[] | null,
  options?: RunOptions): RunPromise<string>;
export function run(command: string, options?: RunOptions): RunPromise<string>;

/** Ids of the visible contracts (of `type`, or all), ascending. */
export function list(type?: ContractType): number[];

/** `'linux'`, `'illumos'` or `'none'`. */
export const backend: Backend;

/** Read on each access: what this host and privilege level deliver. */
export const features: Features;
