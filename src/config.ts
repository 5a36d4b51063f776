import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/**
 * The only reader of process.env. `loadConfig` parses every variable once, validates it, and
 * returns a frozen object; every problem is reported together, each with how to fix it.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absolute URL without a trailing slash; the default base of every website's links. */
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly databaseUrl: string;
  /** Server key material (at least 32 bytes); never logged. */
  readonly secret: string;
  /** True when the secret was generated into the data directory rather than given. */
  readonly secretGenerated: boolean;
  readonly smtpUrl: string | null;
  readonly mailFrom: string;
  readonly bootstrapApiKey: string | null;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly trustProxy: boolean | string;
  /** How long a claimed job stays with a worker that stopped answering (s). */
  readonly jobLeaseSeconds: number;
  /** Days finished and dead jobs are kept before they are deleted. */
  readonly jobRetentionDays: number;
  /** Days integrator events (and their deliveries and attempts) are kept. */
  readonly eventRetentionDays: number;
  /** Jobs one worker runs at once. */
  readonly workerConcurrency: number;
  /** Worker threads that render and build messages (0: on the main thread). */
  readonly composeThreads: number;
  /** The first administrator of an empty database (else one is generated and its password printed). */
  readonly bootstrapAdmin: { readonly email: string; readonly password: string } | null;
  /** Portal attempts a minute per action: from one IP, and from everyone. */
  readonly rateLimits: {
    readonly perIp: number;
    readonly perAccount: number;
    readonly perCode: number;
    readonly global: number;
  };
  /** PostgreSQL statements as named prepared statements (off for poolers that cannot keep them). */
  readonly preparedStatements: boolean;
  /**
   * Webhooks may go to loopback, private and link-local addresses, and over plain http (a private
   * network, or tests); off by default, so an endpoint cannot reach the server's own network.
   */
  readonly webhookAllowPrivate: boolean;
  /**
   * Identity providers may have a plain-http issuer (a provider on loopback in tests); off by
   * default, so tokens and client secrets travel only over TLS.
   */
  readonly oidcAllowHttp: boolean;
  /**
   * Who may read GET /metrics: nobody ('off', the default: 404), anyone who reaches the port
   * ('public'), or a scraper that sends this token as `Authorization: Bearer`.
   */
  readonly metrics: 'off' | 'public' | { token: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Admit cannot start; fix the configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SECRET_FILE = 'secret.key';
const MIN_SECRET_LENGTH = 32;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const port = parsePort(value('PORT') ?? '3000', problems);
  const host = value('HOST') ?? '0.0.0.0';
  const dataDir = path.resolve(value('DATA_DIR') ?? './data');

  const rawPublicUrl = value('PUBLIC_URL') ?? `http://localhost:${port}`;
  let publicUrl = rawPublicUrl;
  try {
    const u = new URL(rawPublicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    if (u.search || u.hash) throw new Error('query');
    publicUrl = u.toString().replace(/\/+$/, '');
  } catch {
    problems.push(
      `PUBLIC_URL="${rawPublicUrl}" is not an absolute http(s) URL without query or fragment; set it to the address people use, e.g. PUBLIC_URL=https://portal.example.com`,
    );
  }

  const databaseUrl = value('DATABASE_URL') ?? `sqlite:${path.join(dataDir, 'admit.db')}`;
  if (!/^sqlite:/.test(databaseUrl) && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(
      'DATABASE_URL must start with "sqlite:" (e.g. sqlite:./data/admit.db) or "postgres://" (e.g. postgres://user:pass@127.0.0.1:5432/admit)',
    );
  }

  const smtpUrl = value('SMTP_URL') ?? null;
  if (smtpUrl !== null && !/^smtps?:\/\/[^/]+/.test(smtpUrl)) {
    problems.push(
      'SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465; unset it to use the outbox',
    );
  }

  const mailFrom = value('MAIL_FROM') ?? 'Admit <no-reply@localhost>';
  if (/[\r\n]/.test(mailFrom) || !/@/.test(mailFrom)) {
    problems.push('MAIL_FROM must be one address such as "Portal <no-reply@example.com>", on one line');
  }

  const bootstrapApiKey = value('ADMIT_BOOTSTRAP_API_KEY') ?? null;
  if (bootstrapApiKey !== null && (bootstrapApiKey.length < 24 || /\s/.test(bootstrapApiKey))) {
    problems.push(
      'ADMIT_BOOTSTRAP_API_KEY must be at least 24 characters without spaces; generate one with: openssl rand -hex 24',
    );
  }

  const rawLevel = (value('LOG_LEVEL') ?? 'info').toLowerCase();
  const logLevel = (LOG_LEVELS as readonly string[]).includes(rawLevel)
    ? (rawLevel as Config['logLevel'])
    : 'info';
  if (logLevel !== rawLevel) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const rawTrust = value('TRUST_PROXY');
  const trustProxy: boolean | string =
    rawTrust === undefined || rawTrust === 'false' ? false : rawTrust === 'true' ? true : rawTrust;

  const jobLeaseSeconds = positiveInt(
    'ADMIT_JOB_LEASE_SECONDS',
    value('ADMIT_JOB_LEASE_SECONDS'),
    30,
    problems,
  );
  const jobRetentionDays = positiveInt(
    'ADMIT_JOB_RETENTION_DAYS',
    value('ADMIT_JOB_RETENTION_DAYS'),
    14,
    problems,
  );
  const eventRetentionDays = positiveInt(
    'ADMIT_EVENT_RETENTION_DAYS',
    value('ADMIT_EVENT_RETENTION_DAYS'),
    30,
    problems,
  );
  const workerConcurrency = positiveInt(
    'ADMIT_WORKER_CONCURRENCY',
    value('ADMIT_WORKER_CONCURRENCY'),
    4,
    problems,
  );
  const rawThreads = value('ADMIT_COMPOSE_THREADS');
  const defaultThreads = Math.max(0, Math.min(4, availableParallelism() - 1));
  const composeThreads =
    rawThreads === '0' ? 0 : positiveInt('ADMIT_COMPOSE_THREADS', rawThreads, defaultThreads, problems);

  const rawPrepared = (value('ADMIT_PG_PREPARED_STATEMENTS') ?? 'true').toLowerCase();
  if (rawPrepared !== 'true' && rawPrepared !== 'false')
    problems.push(
      'ADMIT_PG_PREPARED_STATEMENTS must be true or false (false behind a connection pooler in transaction mode)',
    );
  const preparedStatements = rawPrepared !== 'false';

  const rateLimits = Object.freeze({
    perIp: positiveInt('ADMIT_RATE_LIMIT_PER_IP', value('ADMIT_RATE_LIMIT_PER_IP'), 20, problems, 1_000_000),
    perAccount: positiveInt(
      'ADMIT_RATE_LIMIT_PER_ACCOUNT',
      value('ADMIT_RATE_LIMIT_PER_ACCOUNT'),
      10,
      problems,
      1_000_000,
    ),
    perCode: positiveInt(
      'ADMIT_RATE_LIMIT_PER_CODE',
      value('ADMIT_RATE_LIMIT_PER_CODE'),
      20,
      problems,
      1_000_000,
    ),
    global: positiveInt(
      'ADMIT_RATE_LIMIT_GLOBAL',
      value('ADMIT_RATE_LIMIT_GLOBAL'),
      1200,
      problems,
      1_000_000,
    ),
  });

  const adminEmail = value('ADMIT_BOOTSTRAP_ADMIN_EMAIL');
  const adminPassword = env.ADMIT_BOOTSTRAP_ADMIN_PASSWORD;
  if ((adminEmail === undefined) !== (adminPassword === undefined || adminPassword === '')) {
    problems.push('Set both ADMIT_BOOTSTRAP_ADMIN_EMAIL and ADMIT_BOOTSTRAP_ADMIN_PASSWORD, or neither');
  }
  if (adminEmail !== undefined && !/^[^\s@]+@[^\s@]+$/.test(adminEmail)) {
    problems.push(`ADMIT_BOOTSTRAP_ADMIN_EMAIL="${adminEmail}" is not an email address`);
  }
  if (adminPassword && (adminPassword.length < 8 || adminPassword.length > 256)) {
    problems.push('ADMIT_BOOTSTRAP_ADMIN_PASSWORD must be 8 to 256 characters');
  }
  const bootstrapAdmin =
    adminEmail !== undefined && adminPassword
      ? Object.freeze({ email: adminEmail, password: adminPassword })
      : null;

  const givenSecret = value('ADMIT_SECRET');
  if (givenSecret !== undefined && givenSecret.length < MIN_SECRET_LENGTH) {
    problems.push(
      `ADMIT_SECRET must be at least ${MIN_SECRET_LENGTH} characters; generate one with: openssl rand -hex 32`,
    );
  }

  const rawAllowPrivate = (value('ADMIT_WEBHOOK_ALLOW_PRIVATE') ?? 'false').toLowerCase();
  if (rawAllowPrivate !== 'true' && rawAllowPrivate !== 'false')
    problems.push(
      `ADMIT_WEBHOOK_ALLOW_PRIVATE="${rawAllowPrivate}" must be true or false (true lets webhooks reach private addresses)`,
    );
  const webhookAllowPrivate = rawAllowPrivate === 'true';

  const rawOidcHttp = (value('ADMIT_OIDC_ALLOW_HTTP') ?? 'false').toLowerCase();
  if (rawOidcHttp !== 'true' && rawOidcHttp !== 'false')
    problems.push(
      `ADMIT_OIDC_ALLOW_HTTP="${rawOidcHttp}" must be true or false (true allows identity providers whose issuer is plain http)`,
    );
  const oidcAllowHttp = rawOidcHttp === 'true';

  const rawMetrics = value('ADMIT_METRICS') ?? 'off';
  const metrics =
    rawMetrics === 'off' || rawMetrics === 'public' ? rawMetrics : Object.freeze({ token: rawMetrics });
  if (typeof metrics === 'object' && !/^[\x21-\x7e]{24,256}$/.test(metrics.token))
    problems.push(
      'ADMIT_METRICS must be off, public, or a token of 24 to 256 visible characters that scrapers send as "Authorization: Bearer …" (openssl rand -hex 24)',
    );

  if (problems.length > 0) throw new ConfigError(problems);

  const { secret, generated } =
    givenSecret !== undefined ? { secret: givenSecret, generated: false } : readOrCreateSecret(dataDir);

  return Object.freeze({
    port,
    host,
    publicUrl,
    dataDir,
    databaseUrl,
    secret,
    secretGenerated: generated,
    smtpUrl,
    mailFrom,
    bootstrapApiKey,
    logLevel,
    trustProxy,
    jobLeaseSeconds,
    jobRetentionDays,
    eventRetentionDays,
    workerConcurrency,
    composeThreads,
    rateLimits,
    bootstrapAdmin,
    preparedStatements,
    webhookAllowPrivate,
    oidcAllowHttp,
    metrics,
  });
}

function positiveInt(
  name: string,
  raw: string | undefined,
  fallback: number,
  problems: string[],
  max = 3600,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= max) return n;
  problems.push(`${name}="${raw}" must be a whole number from 1 to ${max} (default ${fallback})`);
  return fallback;
}

function parsePort(raw: string, problems: string[]): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    problems.push(`PORT="${raw}" is not a port number; use a whole number from 1 to 65535, e.g. PORT=3000`);
    return 3000;
  }
  return n;
}

/** Keeps the generated secret in the data directory (mode 0600) so codes survive restarts. */
function readOrCreateSecret(dataDir: string): { secret: string; generated: boolean } {
  const file = path.join(dataDir, SECRET_FILE);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= MIN_SECRET_LENGTH) return { secret, generated: true };
    throw new ConfigError([
      `${file} holds a secret shorter than ${MIN_SECRET_LENGTH} characters; delete it or set ADMIT_SECRET`,
    ]);
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { secret, generated: true };
}

export const secretFileName = SECRET_FILE;
