/**
 * From an admitted proof to the exact text Z3 evaluates, and from Z3's output to a Verdict. Pure: the worker
 * pool and the inline verifier both use these, so they cannot disagree.
 */
import type { AdmittedProof, Command } from './admission/admit.js';
import type { List } from './admission/reader.js';
import type { Claim, Verdict } from './types/proof.js';

/**
 * Solver parameters set on every job besides `rlimit` (after `global_param_reset_all()`), sorted by name.
 * They are Z3's defaults, written out so the genesis records them and a Z3 upgrade cannot change them silently.
 */
export const SOLVER_PARAMS: Readonly<Record<string, string | number | boolean>> = Object.freeze({
  'sat.random_seed': 0,
  'smt.random_seed': 0,
});

/** The command appended after check-sat to read the deterministic budget used. */
export const RLIMIT_PROBE = '(get-info :rlimit)';

/** The network's options, on one line before the submitted text (so Z3's error lines are off by exactly one). */
function prelude(rlimit: number): string {
  const options = [`(set-option :rlimit ${rlimit})`];
  for (const [name, value] of Object.entries(SOLVER_PARAMS)) options.push(`(set-option :${name} ${String(value)})`);
  return options.join(' ') + '\n';
}

/** Z3 reports lines of the evaluated script; subtract the prelude's line so they point into the submitted text. */
function submittedLines(errorLine: string): string {
  return errorLine.replace(/line (\d+) column/g, (_match, line: string) => `line ${Math.max(1, Number(line) - 1)} column`);
}

/** A dropped command's text as blanks: the same lines and columns, so Z3's positions still point into the submission. */
function blanked(text: string): string {
  return text.replace(/[^\n]/g, ' ');
}

/**
 * (check-sat-assuming (l1 ... ln)) as Z3 evaluates it here: (assert (and true l1 ... ln))(check-sat), which has the
 * same answer. The literals keep their text and lines; the rewrite adds a constant number of bytes whatever n is
 * (n separate asserts would add bytes per literal).
 */
function assumingText(source: string, command: Command, assumptions: List): string {
  const head = source.slice(command.expr.start, assumptions.start);
  const newlines = head.replace(/[^\n]/g, '');
  const literals = source.slice(assumptions.start + 1, assumptions.end);
  const tail = source.slice(assumptions.end, command.expr.end);
  return `(assert${newlines} (and true ${literals}${tail}(check-sat)`;
}

/** The text Z3 evaluates for one admitted command (its own text, except for the two cases above). */
function evaluatedText(source: string, command: Command): string {
  if (command.dropped === true) return blanked(source.slice(command.expr.start, command.expr.end));
  if (command.assumptions !== undefined) return assumingText(source, command, command.assumptions);
  return source.slice(command.expr.start, command.expr.end);
}

/**
 * The script Z3 runs for a proof: the network's options, the submitted commands up to and including the one
 * query (commands after it are not evaluated), then the rlimit probe. Accepted set-options are dropped (blanked),
 * a check-sat-assuming becomes assert + check-sat. With a model, each declaration the model defines is replaced
 * by the model's definition, so the assertions are evaluated under the model.
 * @example buildSolverScript(admitProof({ smtlib: '(check-sat)', claim: 'sat' }))
 */
export function buildSolverScript(admitted: AdmittedProof): string {
  const { script, model, rlimit } = admitted;
  if (!script.commands[script.checkSatIndex]) throw new Error('buildSolverScript: admitted script without check-sat');
  let body: string;
  if (model === undefined) {
    // The submitted text between commands (comments, line breaks) is kept, so Z3's line numbers hold.
    const parts: string[] = [];
    let at = 0;
    for (const command of script.commands.slice(0, script.checkSatIndex + 1)) {
      parts.push(script.source.slice(at, command.expr.start), evaluatedText(script.source, command));
      at = command.expr.end;
    }
    body = parts.join('');
  } else {
    const declared = new Set<string>();
    for (const command of script.commands) if (command.declares !== undefined) declared.add(command.declares);
    const bySymbol = new Map(model.map((definition) => [definition.symbol, definition.text]));
    const auxiliary = model.filter((definition) => !declared.has(definition.symbol)).map((definition) => definition.text);
    const parts: string[] = [];
    let auxiliaryPlaced = false;
    for (let index = 0; index <= script.checkSatIndex; index++) {
      const command = script.commands[index];
      if (!command) break;
      if (command.dropped === true) continue;
      const replacement = command.declares !== undefined ? bySymbol.get(command.declares) : undefined;
      if (!auxiliaryPlaced && (replacement !== undefined || index === script.checkSatIndex)) {
        parts.push(...auxiliary);
        auxiliaryPlaced = true;
      }
      parts.push(replacement ?? evaluatedText(script.source, command));
    }
    body = parts.join('\n');
  }
  return prelude(rlimit) + body + '\n' + RLIMIT_PROBE + '\n';
}

export interface OutputVerdict {
  verdict: Verdict;
  /** Z3's :rlimit count after the job (0 when it could not be read). */
  rlimitUsed: number;
  detail: string;
}

const RLIMIT_RE = /\(:rlimit (\d+)\)/;

/**
 * Map Z3's printed output to a verdict. Any `(error` anywhere means `malformed` (Z3 carries on after an error
 * and may print a wrong answer). The first line is the check-sat answer.
 * @example verdictFromOutput('unsat\n(:rlimit 42)\n', 'unsat', false) // { verdict: 'valid', rlimitUsed: 42, ... }
 */
export function verdictFromOutput(output: string, claim: Claim, withModel: boolean): OutputVerdict {
  const match = RLIMIT_RE.exec(output);
  const rlimitUsed = match ? Number(match[1]) : 0;
  const errorAt = output.indexOf('(error');
  if (errorAt >= 0) {
    const line = output.slice(errorAt, output.indexOf('\n', errorAt) >= 0 ? output.indexOf('\n', errorAt) : undefined);
    return { verdict: 'malformed', rlimitUsed, detail: submittedLines(line).slice(0, 300) };
  }
  const first = output.split('\n', 1)[0]?.trim() ?? '';
  if (first === 'unknown') return { verdict: 'unknown', rlimitUsed, detail: 'z3 answered unknown (budget spent or incomplete theory)' };
  if (first !== 'sat' && first !== 'unsat') {
    return { verdict: 'malformed', rlimitUsed, detail: `no check-sat answer in Z3 output: ${JSON.stringify(output.slice(0, 120))}` };
  }
  if (withModel) {
    return first === 'sat'
      ? { verdict: 'valid', rlimitUsed, detail: 'the model satisfies every assertion' }
      : { verdict: 'invalid', rlimitUsed, detail: 'the model does not satisfy the assertions' };
  }
  return first === claim
    ? { verdict: 'valid', rlimitUsed, detail: `z3 answered ${first}` }
    : { verdict: 'invalid', rlimitUsed, detail: `z3 answered ${first}, the claim was ${claim}` };
}
