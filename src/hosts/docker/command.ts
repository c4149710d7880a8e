import type { Command } from 'commander';
import { print, printJson } from '../../format.js';
import { cleanDocker } from './clean.js';
import { buildImage, DEFAULT_BASE, DEFAULT_TAG, LOCAL_BASE } from './image.js';

/** Registers `socketlab image build` and `socketlab docker clean`. */
export function registerDocker(program: Command): void {
  const image = program.command('image').description('the Docker image lab hosts run in (socketlab:lab)');
  image
    .command('build')
    .description('build the socketlab image from this installed package (dist, labs, production node_modules) on a base with Node 20.19+')
    .option('--base <image>', `base image with Node 20.19+ (default: ${DEFAULT_BASE}, else ${LOCAL_BASE} from scripts/docker-base.sh)`)
    .option('--tag <name>', 'name of the image to build', DEFAULT_TAG)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Without a registry (no docker pull), make a base first:
  $ sudo scripts/docker-base.sh                 debootstrap bookworm + the lab tools + this node
  $ socketlab image build --base ${LOCAL_BASE}`,
    )
    .action(async (opts: { base?: string; tag: string; json?: boolean }) => {
      const started = Date.now();
      const r = await buildImage({ ...(opts.base !== undefined && { base: opts.base }), tag: opts.tag });
      const seconds = (Date.now() - started) / 1000;
      if (opts.json) return printJson({ ...r, seconds });
      print(`built ${r.tag} on ${r.base} (node ${r.node}): ${(r.sizeBytes / 1e6).toFixed(0)} MB, ${seconds.toFixed(1)} s`);
    });

  const docker = program.command('docker').description('Docker resources of socketlab labs (all labelled socketlab.lab)');
  docker
    .command('clean')
    .description('remove every container and network labelled socketlab.lab, and the DOCKER-USER rules socketlab added for their bridges (after a crash or kill -9 of a lab run)')
    .option('--lab <name>', 'only those of this lab')
    .option('--json', 'print JSON')
    .action(async (opts: { lab?: string; json?: boolean }) => {
      const removed = await cleanDocker(opts.lab);
      if (opts.json) return printJson({ removed });
      if (removed.length === 0) return print('nothing to clean: no container or network labelled socketlab.lab');
      for (const r of removed) print(`removed ${r}`);
    });
}
