/**
 * Command-line flags for the operator commands (configure, policy, doctor). `--name value` and
 * `--name=value`; anything not declared is an error, never ignored. Bare words are an error too,
 * unless the command takes them (`positional`: doctor's hosts), when they come back in `_`.
 */

export type FlagKind = 'boolean' | 'string' | 'list';
export type FlagSpec = Record<string, FlagKind>;

export type Flags<S extends FlagSpec> = {
  [K in keyof S]: S[K] extends 'boolean' ? boolean : S[K] extends 'list' ? string[] : string | undefined;
};

export class UsageError extends Error {}

export function parseFlags<S extends FlagSpec>(
  args: readonly string[],
  spec: S,
  options: { positional?: boolean } = {},
): Flags<S> & { _: string[] } {
  const out: Record<string, boolean | string | string[] | undefined> = { _: [] };
  for (const [name, kind] of Object.entries(spec)) {
    out[name] = kind === 'boolean' ? false : kind === 'list' ? [] : undefined;
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const match = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!match && options.positional && !arg.startsWith('-')) {
      (out._ as string[]).push(arg);
      continue;
    }
    if (!match) throw new UsageError(`unexpected argument ${JSON.stringify(arg.slice(0, 200))}`);
    const [, name, inline] = match;
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!kind) throw new UsageError(`unknown option --${name.slice(0, 100)}`);
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= args.length || args[i + 1].startsWith('--'))
        throw new UsageError(`--${name} needs a value`);
      value = args[++i];
    }
    if (value.trim() === '') throw new UsageError(`--${name} needs a value`);
    if (kind === 'list') (out[name] as string[]).push(value.trim());
    else if (out[name] !== undefined) throw new UsageError(`--${name} given twice`);
    else out[name] = value.trim();
  }
  return out as Flags<S> & { _: string[] };
}
