/**
 * Whether to write ANSI colours to `stream`. NO_COLOR (no-color.org: set and not empty) turns them
 * off and wins over FORCE_COLOR, so the lab runner's NO_COLOR for its children always holds;
 * FORCE_COLOR (not `0`/`false`) turns them on without a terminal; otherwise only on a TTY.
 * `--no-color` sets NO_COLOR for this process and its children.
 */
export function colourEnabled(stream: { isTTY?: boolean } = process.stdout): boolean {
  const no = process.env.NO_COLOR;
  if (no !== undefined && no !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}
