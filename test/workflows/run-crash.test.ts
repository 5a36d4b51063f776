import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { eventually } from '../support/eventually.ts';
import type { Json } from '../support/factories.ts';
import { onBothDatabases, TEST_API_KEY } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';
import { startServeProcess } from '../support/serve-process.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const _MAIN = path.resolve('src/main.ts');

/**
 * A worker killed with SIGKILL in the middle of a run (its step 1, a call-webhook, sent and not
 * answered), then a new process: the run finishes, each step's side effect happened once (the
 * database steps, the email), and the webhook was sent again with the same idempotency key.
 */
onBothDatabases('a workflow run through kill -9', (dialect) => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  let receiver: WebhookReceiver;

  before(async () => {
    db = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'admit-run-crash-'));
    receiver = await new WebhookReceiver().start();
    env = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      DATA_DIR: dir,
      ADMIT_SECRET: 'run-crash-secret-0123456789abcdefghijklmnopq',
      ADMIT_BOOTSTRAP_API_KEY: TEST_API_KEY,
      ADMIT_JOB_LEASE_SECONDS: '2',
      ADMIT_WEBHOOK_ALLOW_PRIVATE: 'true',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    child?.kill('SIGKILL');
    await receiver.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, p: string, body?: unknown): Promise<Json> => {
    const r = await fetch(`http://127.0.0.1:${env.PORT}/api/v1${p}`, {
      method,
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await r.json()) as Json;
    assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const startServe = () => startServeProcess(env);

  it('does each step once and finishes the run after a restart', async () => {
    child = await startServe();
    const hook = '/hook/crash';
    receiver.holding.add(hook);
    const templates = (await api('GET', '/email-templates')).items as Json[];
    const workflow = await api('POST', '/workflows', {
      name: 'Through a crash',
      steps: [
        { type: 'set-contact-fields', fields: { lastName: 'StepOne' } },
        { type: 'call-webhook', url: `${receiver.url}${hook}`, timeoutMs: 30_000 },
        { type: 'send-email', templateId: templates[0]?.id },
        { type: 'set-contact-fields', fields: { firstName: 'StepFour' } },
      ],
    });
    const contact = await api('POST', '/contacts', {
      firstName: 'Kill',
      lastName: 'Nine',
      email: 'kill.nine@example.test',
    });
    const [run] = (await api('POST', '/workflow-runs', { workflowId: workflow.id, contactIds: [contact.id] }))
      .items as Json[];
    await eventually(() => receiver.received.some((r) => r.path === hook), 20_000, 'the webhook step');
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));

    receiver.holding.delete(hook);
    child = await startServe();
    const done = await eventually(
      async () => {
        const r = await api('GET', `/workflow-runs/${run?.id}`);
        return r.status === 'succeeded' && r;
      },
      30_000,
      'the run to finish',
    );
    const succeeded = (done.log as Json[]).filter((l) => l.outcome === 'succeeded' && l.stepIndex !== null);
    assert.deepEqual(
      succeeded.map((l) => l.stepIndex),
      [0, 1, 2, 3],
      'each step recorded once',
    );
    const calls = receiver.received.filter((r) => r.path === hook);
    assert.ok(calls.length >= 2, 'the step in flight was sent again');
    assert.deepEqual([...new Set(calls.map((c) => c.headers['webhook-id']))], [`wfstep_${run?.id}_1`]);
    const emails = (await api('GET', `/emails?contactId=${contact.id}`)).items as Json[];
    assert.equal(emails.length, 1, 'one email');
    const audit = (
      (await api('GET', `/audit-events?entityType=contact&entityId=${contact.id}`)).items as Json[]
    ).filter((a) => a.data.workflowRunId === run?.id);
    assert.equal(audit.length, 2, 'two contact changes, each once');
    const c = await api('GET', `/contacts/${contact.id}`);
    assert.deepEqual([c.firstName, c.lastName], ['StepFour', 'StepOne']);
  });
});
