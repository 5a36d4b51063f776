/**
 * A one-line progress bar on stderr (redrawn in place on a terminal, a line every 10% otherwise),
 * so stdout stays clean for the summary.
 */
export function progressBar(label: string, total: number) {
  const tty = process.stderr.isTTY === true;
  let lastDecile = -1;
  const draw = (done: number, extra: string) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(ratio * width);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${extra}`;
    if (tty) process.stderr.write(`\r${line}`);
    else if (Math.floor(ratio * 10) > lastDecile) {
      lastDecile = Math.floor(ratio * 10);
      process.stderr.write(`${line}\n`);
    }
  };
  return {
    update: draw,
    done(extra: string) {
      draw(total, extra);
      if (tty) process.stderr.write('\n');
    },
  };
}
