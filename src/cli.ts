import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildApp } from './app.ts';
import { backupDatabase } from './cli/backup.ts';
import { importContactsFile } from './cli/contacts-import.ts';
import { fillDemo } from './cli/demo.ts';
import { invite, showOperation } from './cli/invite.ts';
import {
  accountIdOf,
  contactIdsOf,
  NotResolved,
  webRoleIdsOf,
  websiteIdOf,
  workflowIdOf,
} from './cli/resolve.ts';
import { type Config, ConfigError, loadConfig, secretFileName } from './config.ts';
import { type Deps, systemActor } from './context.ts';
import { openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { AppError } from './errors.ts';
import { loggerOptions } from './http/logging.ts';
import { jobHandlers } from './jobs/registry.ts';
import { Worker } from './jobs/worker.ts';
import { pruneEvents } from './modules/events/event.ts';
import {
  createApiKey,
  createUser,
  ensureBootstrapApiKey,
  findUserByEmail,
} from './modules/users/user.service.ts';
import { ensureFirstAdmin } from './modules/users/user.sign-in.ts';
import { linkForOperator } from './modules/users/user.ts';
import { outboxDir, startRuntime } from './runtime.ts';

const USAGE = `Usage: admit <command> [options]

Commands:
  serve                              run the HTTP server and a job worker (migrates first)
  worker                             run a job worker only (scale sending out)
  migrate                            bring the database schema up to date and exit
  backup FILE                        copy a running SQLite database to FILE, consistently
  users create --email E --name N [--role admin|operator]
                                     create a back-office user and print its link to set a
                                     password (valid a week)
  users reset-password --email E     print a link to choose a new password (valid an hour): for
                                     a user locked out, the first administrator too
  api-keys create --user EMAIL [--name NAME]
                                     create an API key for a user and print it once
  contacts import FILE.csv           import contacts (columns firstName, lastName, email, …)
  invite --website SLUG (--contacts EMAIL,EMAIL… | --csv FILE | --matching SEARCH)
         [--roles NAME,NAME…] [--account NAME] [--workflow NAME] [--expires ISO-INSTANT]
         [--owner EMAIL] [--send] [--skip-invited] [--detach]
                                     (each option also takes the record's id)
                                     one Single invitation per contact, as a bulk operation that
                                     admit serve or admit worker runs, with its progress shown
                                     (CSV: a contactId or email column, or firstName, lastName,
                                     email… to import new contacts too; --matching '' is every
                                     contact); --send queues the emails for the workers;
                                     contacts already holding an open invitation to the website
                                     are counted, and skipped with --skip-invited
  operations show ID [--wait]        a bulk operation's progress and first failures
  demo                               fill an empty database with a website, roles, accounts,
                                     contacts, invitations in every status and a workflow, and
                                     print where to click

Configuration comes from environment variables; see README.md.`;

const out = (line: string) => process.stdout.write(`${line}\n`);

export async function runCli(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  switch (command) {
    case 'serve':
      return serve(config, true);
    case 'worker':
      return serve(config, false);
    case 'migrate': {
      const handle = openDatabase(config.databaseUrl, { preparedStatements: config.preparedStatements });
      try {
        const applied = await migrateToLatest(handle.db);
        out(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'The database schema is up to date.');
        return 0;
      } finally {
        await handle.close();
      }
    }
    case 'backup':
      if (sub && rest.length === 0)
        return backupDatabase(config.databaseUrl, sub, out, (line) => process.stderr.write(`${line}\n`));
      break;
    case 'users':
      if (sub === 'create') return usersCreate(config, rest);
      if (sub === 'reset-password') return usersResetPassword(config, rest);
      break;
    case 'api-keys':
      if (sub === 'create') return apiKeysCreate(config, rest);
      break;
    case 'contacts':
      if (sub === 'import' && rest[0])
        return withRuntime(config, (deps) => importContactsFile(deps, rest[0] as string, out));
      break;
    case 'operations':
      if (sub === 'show' && rest[0] && !rest[0].startsWith('-'))
        return withRuntime(config, (deps) =>
          showOperation(deps, rest[0] as string, rest.includes('--wait'), out),
        );
      break;
    case 'demo':
      if (sub === undefined) return withRuntime(config, (deps) => fillDemo(deps, out));
      break;
    case 'invite':
      return inviteCommand(
        config,
        [sub, ...rest].filter((a): a is string => a !== undefined),
      );
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return command === undefined ? 2 : 0;
  }
  process.stderr.write(`Unknown command: ${[command, sub].filter(Boolean).join(' ')}\n\n${USAGE}\n`);
  return 2;
}

/** `serve` (HTTP and a worker) or `worker` (jobs only); both stop gracefully on SIGTERM/SIGINT. */
async function serve(config: Config, http: boolean): Promise<number> {
  const runtime = await startRuntime(config, {
    onWait: (err) =>
      process.stderr.write(
        `The database does not answer (${err instanceof Error ? err.message : String(err)}); trying again.\n`,
      ),
  });
  const { deps, handle } = runtime;
  const app = http ? await buildApp(deps) : null;
  const log = app?.log ?? pino(loggerOptions(config.logLevel));
  if (config.secretGenerated) {
    log.warn(
      `ADMIT_SECRET is not set; using the generated key in ${config.dataDir}/${secretFileName}. Keep that file (codes and API keys depend on it) or set ADMIT_SECRET.`,
    );
  }
  if (config.bootstrapApiKey) await ensureBootstrapApiKey(deps, config.bootstrapApiKey);
  const firstAdmin = http ? await ensureFirstAdmin(deps) : null;
  const worker = new Worker(deps, jobHandlers(), {
    concurrency: config.workerConcurrency,
    leaseMs: config.jobLeaseSeconds * 1000,
    retentionMs: config.jobRetentionDays * 86_400_000,
    sweeps: [pruneEvents(config.eventRetentionDays)],
    onError: (err, job) =>
      log.warn(
        { err: err instanceof Error ? err.message : String(err), jobId: job?.id, jobType: job?.type },
        'job failed',
      ),
  });
  runtime.onJobs(() => worker.nudge());
  worker.start();
  log.info(
    deps.mail.kind === 'outbox'
      ? `SMTP_URL is not set: emails are written to the outbox, ${outboxDir(config)} (open the .eml files with any mail client)`
      : 'emails are sent through SMTP_URL',
  );
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: finishing the jobs in flight');
    await app?.close();
    await worker.stop();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (app) {
    await app.listen({ port: config.port, host: config.host });
    out(`\nAdmit is running at ${config.publicUrl}  (database: ${handle.dialect})`);
    out(`  API docs:      ${config.publicUrl}/api/docs`);
    if (firstAdmin) {
      out(`  Admin console: ${config.publicUrl}/admin  (sign in as ${firstAdmin.email})`);
      if (firstAdmin.oneTimePassword)
        out(
          `                 one-time password ${firstAdmin.oneTimePassword} (you choose a new one at the first sign-in; until then each start prints it)`,
        );
    } else {
      out(`  Admin console: ${config.publicUrl}/admin`);
      out('  Locked out?    npm run admit -- users reset-password --email you@example.com');
    }
    if (!config.bootstrapApiKey) {
      out('  First steps:   npm run admit -- users create --email you@example.com --name "Your Name"');
      out('                 npm run admit -- api-keys create --user you@example.com');
    }
  } else {
    out(`Admit worker ${worker.id} is running (database: ${handle.dialect})`);
  }
  return new Promise<number>(() => {
    // runs until a signal ends the process
  });
}

async function withRuntime(config: Config, work: (deps: Deps) => Promise<number>): Promise<number> {
  const runtime = await startRuntime(config);
  try {
    return await work(runtime.deps);
  } finally {
    await runtime.close();
  }
}

async function inviteCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      website: { type: 'string' },
      contacts: { type: 'string' },
      csv: { type: 'string' },
      roles: { type: 'string' },
      account: { type: 'string' },
      workflow: { type: 'string' },
      expires: { type: 'string' },
      owner: { type: 'string' },
      matching: { type: 'string' },
      send: { type: 'boolean', default: false },
      'skip-invited': { type: 'boolean', default: false },
      detach: { type: 'boolean', default: false },
    },
  });
  const sources = [values.contacts, values.csv, values.matching].filter((v) => v !== undefined);
  if (!values.website || sources.length !== 1) {
    process.stderr.write(
      'invite needs --website SLUG and one of --contacts EMAIL,EMAIL…, --csv FILE or --matching SEARCH\n',
    );
    return 2;
  }
  const list = (v: string | undefined) =>
    v
      ? v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : undefined;
  const code = await withRuntime(config, async (deps) => {
    let resolved: {
      websiteId: string;
      contactIds?: string[];
      webRoleIds?: string[];
      account?: string;
      workflow?: string;
    };
    try {
      const websiteId = await websiteIdOf(deps, values.website as string);
      const roles = list(values.roles);
      const contacts = list(values.contacts);
      resolved = {
        websiteId,
        contactIds: contacts && (await contactIdsOf(deps, contacts)),
        webRoleIds: roles && (await webRoleIdsOf(deps, websiteId, roles)),
        account: values.account === undefined ? undefined : await accountIdOf(deps, values.account),
        workflow: values.workflow === undefined ? undefined : await workflowIdOf(deps, values.workflow),
      };
    } catch (err) {
      if (!(err instanceof NotResolved)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    return invite(
      deps,
      {
        websiteId: resolved.websiteId,
        contactIds: resolved.contactIds,
        csv: values.csv,
        matching: values.matching,
        detach: values.detach === true,
        webRoleIds: resolved.webRoleIds,
        assignToAccountId: resolved.account,
        redemptionWorkflowId: resolved.workflow,
        expiresAt: values.expires,
        ownerEmail: values.owner,
        send: values.send === true,
        skipInvited: values['skip-invited'] === true,
      },
      out,
    );
  });
  if (values.send) out('The emails are delivered by a running `admit serve` or `admit worker`.');
  return code;
}

async function usersCreate(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string', default: 'admin' },
    },
  });
  if (!values.email || !values.name || (values.role !== 'admin' && values.role !== 'operator')) {
    process.stderr.write('users create needs --email and --name; --role is admin (default) or operator\n');
    return 2;
  }
  const { deps, close } = await startRuntime(config);
  try {
    const user = await createUser(deps, systemActor, {
      email: values.email,
      name: values.name,
      role: values.role,
    });
    out(`Created ${user.role} ${user.email} (${user.id})`);
    const { link, validForHours } = await linkForOperator(deps, user.email, 'invite');
    out(`Give this link to ${user.email} to choose a password (valid ${validForHours / 24} days, once):`);
    out(link);
    return 0;
  } finally {
    await close();
  }
}

async function usersResetPassword(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' } } });
  if (!values.email) {
    process.stderr.write('users reset-password needs --email E\n');
    return 2;
  }
  const { deps, close } = await startRuntime(config);
  try {
    const { link, validForHours } = await linkForOperator(deps, values.email, 'reset-password');
    out(`Open this link to choose a new password for ${values.email} (valid ${validForHours} hour, once):`);
    out(link);
    return 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  } finally {
    await close();
  }
}

async function apiKeysCreate(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { user: { type: 'string' }, name: { type: 'string', default: 'cli' } },
  });
  if (!values.user) {
    process.stderr.write(
      'api-keys create needs --user EMAIL (create the user first with: admit users create)\n',
    );
    return 2;
  }
  const { deps, close } = await startRuntime(config);
  try {
    const user = await findUserByEmail(deps, values.user);
    if (!user) {
      process.stderr.write(
        `No user with the email ${values.user}; create it with: admit users create --email ${values.user} --name "…"\n`,
      );
      return 1;
    }
    const { secret } = await createApiKey(deps, systemActor, { userId: user.id, name: values.name ?? 'cli' });
    out('Your API key (shown once; store it now):');
    out(secret);
    return 0;
  } finally {
    await close();
  }
}
