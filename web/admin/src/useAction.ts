import { useState } from 'react';
import { ApiError } from './api.ts';
import { confirmAction } from './Confirm.tsx';

/**
 * A screen's actions: run one, then say what happened (a status message) or what the API answered
 * (an error), and reload the screen's data after a success. A destructive action names its
 * `confirm` question, asked first; "Cancel" does nothing.
 */
export function useAction(reload: () => Promise<void>) {
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const run = async (work: () => Promise<unknown>, done: string, confirm?: string) => {
    if (confirm && !(await confirmAction(confirm))) return;
    try {
      await work();
      setError('');
      setMessage(done);
      await reload();
    } catch (err) {
      setMessage('');
      setError(err instanceof ApiError ? err.message : 'That did not work.');
    }
  };
  return { message, error, setError, run };
}
