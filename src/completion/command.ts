import { Argument, type Command } from 'commander';
import { completionTable } from './table.js';
import { completionScript, SHELLS, type Shell } from './scripts.js';

/** Registers `socketlab completion bash|zsh|fish`. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: commands, flags, and lab names from "lab list"')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .addHelpText('after', `
Examples:
  $ source <(socketlab completion bash)                    this shell (put it in ~/.bashrc to keep it)
  $ socketlab completion bash > /etc/bash_completion.d/socketlab
  $ socketlab completion zsh > "\${fpath[1]}/_socketlab"
  $ socketlab completion fish > ~/.config/fish/completions/socketlab.fish`)
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell, completionTable(program)));
    });
}
