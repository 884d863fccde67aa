// Type-checked (never run) by test/pack/types.test.js: the ESM view of the same
// declarations, through the package's "exports" ("types" condition).
import contract, { set_template, latest, run, features, Contract } from 'illumos_contract';
import type { ProcessTemplate, RunResult } from 'illumos_contract';

const t: ProcessTemplate = { type: 'process', critical: { pr_empty: true } };
set_template(t);
const ct: Contract<'process'> = latest('process');
ct.on('pr_empty', (ev) => ct.ack(ev.evid));
// the default export is the CommonJS module object
contract.clear_template();
const same: typeof set_template = contract.set_template;
const root: string | null = features.root;
const r: RunResult = await run('true');
void same, root, r;
// @ts-expect-error no such export
void contract.setTemplate;
