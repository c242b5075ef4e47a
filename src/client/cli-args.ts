// Argument parsing for the sluice CLI: each command declares its flags; anything else is a usage error (exit 2).

/** Bad input on the command line or in a file the user named: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An expected runtime failure (job failed, Temporal unreachable): printed without a stack, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export type FlagKinds = Record<string, 'boolean' | 'string'>;

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

/** Flags every command accepts. */
export const COMMON_FLAGS: FlagKinds = { json: 'boolean', help: 'boolean' };

/**
 * Parses `--name value`, `--name=value` and boolean `--name`. A word starting with `-` followed by a digit
 * (`-1`) is a positional, so that `set-parallelism ID -1` reaches the value check and gets its message.
 */
export function parseArgs(argv: readonly string[], kinds: FlagKinds): ParsedArgs {
  const all: FlagKinds = { ...COMMON_FLAGS, ...kinds };
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '-h') {
      flags.help = true;
      continue;
    }
    if (!word.startsWith('--')) {
      if (word.startsWith('-') && !/^-\d/.test(word)) throw new UsageError(`unknown option ${word}`);
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const kind = all[name];
    if (!kind) throw new UsageError(`unknown option --${name} (this command takes: ${Object.keys(all).map((f) => `--${f}`).join(', ')})`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = eq >= 0 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    flags[name] = value;
  }
  return { positionals, flags };
}

export const stringFlag = (args: ParsedArgs, name: string): string | undefined => {
  const value = args.flags[name];
  return typeof value === 'string' ? value : undefined;
};

export const boolFlag = (args: ParsedArgs, name: string): boolean => args.flags[name] === true;

/** A flag that must be a whole number from `min` up, named in the error when it is not. */
export function wholeNumberFlag(args: ParsedArgs, name: string, min: number): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name}: expected a whole number from ${min} and up, got ${JSON.stringify(raw)}`);
  return n;
}

/** Exactly `names.length` positionals, or a usage error naming what is missing. */
export function positionals(args: ParsedArgs, names: readonly string[]): string[] {
  if (args.positionals.length < names.length) throw new UsageError(`missing ${names.slice(args.positionals.length).map((n) => `<${n}>`).join(' ')}`);
  if (args.positionals.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[names.length])}`);
  return args.positionals;
}
