// tsc drops the executable bit; npm links dist/cli.js as the `socketlab` command.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
