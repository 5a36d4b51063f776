import { runCli } from './cli.ts';
import { AppError } from './errors.ts';

/** Process entry: `admit <command>`. */
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof AppError ? err.detail : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
