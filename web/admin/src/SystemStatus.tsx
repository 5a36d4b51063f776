import { useCallback, useEffect, useState } from 'react';
import { api, type Json } from './api.ts';
import { when } from './format.ts';

/**
 * What an operator must know before anything else: mail not going out (credentials refused, the
 * server unreachable or deferring: since when, its last reply, how many emails wait) and background
 * jobs that failed for good. Shows nothing while all is well; refreshes every 10 seconds.
 */
export function SystemStatus() {
  const [mail, setMail] = useState<Json | null>(null);
  const [jobs, setJobs] = useState<Json | null>(null);
  const load = useCallback(async () => {
    const [m, j] = await Promise.allSettled([api('GET', '/mail/status'), api('GET', '/jobs/status')]);
    setMail(m.status === 'fulfilled' ? m.value : null);
    setJobs(j.status === 'fulfilled' ? j.value : null);
  }, []);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, [load]);

  const resume = async () => {
    try {
      setMail(await api('POST', '/mail/resume'));
    } catch {
      await load();
    }
  };

  return (
    <>
      {mail?.paused && (
        <div role="alert" className="notice error system-status" aria-label="Mail status">
          <p>
            <strong>{mail.reason}</strong> Since {when(mail.since)}; {mail.waiting} email
            {mail.waiting === 1 ? '' : 's'} waiting.
          </p>
          {mail.lastReply && <p>Last reply: {mail.lastReply}</p>}
          {mail.nextAttemptAt && <p>Next attempt: {when(mail.nextAttemptAt)}.</p>}
          {mail.state === 'paused' && (
            <button type="button" onClick={() => void resume()}>
              Resume sending
            </button>
          )}
        </div>
      )}
      {jobs && jobs.counts.dead > 0 && (
        <details className="notice error system-status">
          <summary>
            {jobs.counts.dead} background job{jobs.counts.dead === 1 ? '' : 's'} failed for good
          </summary>
          <ul>
            {jobs.recentDead.map((d: Json) => (
              <li key={d.id}>
                {d.type}, {when(d.updatedAt)}, after {d.attempts} attempt{d.attempts === 1 ? '' : 's'}:{' '}
                {d.lastError}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
