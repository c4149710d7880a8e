import type { Command } from 'commander';

/** What a shell may complete after one command path (`''`, `'lab'`, `'lab run'` ...). */
export interface CompletionEntry {
  /** Space-joined subcommand names from the program, `''` for the program itself. */
  path: string;
  /** Subcommands and their aliases. */
  commands: string[];
  /** Every flag of this command (short and long), with the program's own (commander accepts them after a subcommand). */
  options: string[];
  /** The flags that take a value (the next word is that value, not a command). */
  valued: string[];
  /** Flag -> allowed values (commander `.choices()`). */
  choices: Record<string, string[]>;
  /** Allowed values of the first argument (`completion <bash|zsh|fish>`). */
  argChoices: string[];
  /** The first argument is a lab name: completed from `socketlab lab list` when TAB is pressed. */
  labArg: boolean;
}

// commander adds -h/--help to every command itself; it is not in `.options`.
const HELP = ['-h', '--help'];

/** The completion table, read from the commander program (so a new command or flag needs no edit here). */
export function completionTable(program: Command): CompletionEntry[] {
  const out: CompletionEntry[] = [];
  // --version is the program's alone; --log-level and the like work after any subcommand too
  const globals = program.options.filter((o) => o.long !== '--version');
  const walk = (cmd: Command, path: string): void => {
    const options = (path === '' ? cmd.options : [...cmd.options, ...globals]).filter((o) => !o.hidden);
    const flags = (o: (typeof options)[number]): string[] => [o.short, o.long].filter((f): f is string => !!f);
    const first = cmd.registeredArguments[0];
    const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    out.push({
      path,
      commands: subs.flatMap((c) => [c.name(), ...c.aliases()]),
      options: [...options.flatMap(flags), ...HELP],
      valued: options.filter((o) => o.required || o.optional).flatMap(flags),
      choices: Object.fromEntries(options.filter((o) => o.argChoices).flatMap((o) => flags(o).map((f) => [f, o.argChoices!]))),
      argChoices: first?.argChoices ?? [],
      labArg: path.startsWith('lab ') && first?.name() === 'name',
    });
    for (const c of subs) walk(c, path ? `${path} ${c.name()}` : c.name());
  };
  walk(program, '');
  return out;
}
