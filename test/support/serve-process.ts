import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { eventually } from './eventually.ts';

const MAIN = path.resolve('src/main.ts');

/** `admit serve` in a child process with `env` (its PORT on 127.0.0.1), once /readyz answers. */
export async function startServeProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { env, stdio: 'ignore' });
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${env.PORT}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    30_000,
    'admit serve',
  );
  return p;
}
