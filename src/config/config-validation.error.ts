/** One thing wrong at start-up: the setting (a variable, or the container's memory limit), its value, and what is wrong. */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string | null;
  readonly problem: string;
}

/** Start-up problems the user can fix in the configuration; main.ts logs them in one JSON line and exits 78. */
export class ConfigValidationError extends Error {
  override readonly name: string = 'ConfigValidationError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration: ${problems.map((p) => `${p.variable}=${JSON.stringify(p.value)}: ${p.problem}`).join('; ')}`,
    );
  }
}
