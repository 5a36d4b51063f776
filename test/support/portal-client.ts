import type { LightMyRequestResponse } from 'fastify';
import type { Harness } from './harness.ts';

/**
 * A browser without JavaScript over `app.inject`: keeps cookies, reads the CSRF token of the last
 * page it saw, submits forms, and follows redirects when asked. What the portal tests drive.
 */
export class PortalClient {
  readonly cookies = new Map<string, string>();
  last: LightMyRequestResponse | undefined;
  constructor(
    private readonly h: Harness,
    readonly ip = '10.0.0.1',
  ) {}

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: LightMyRequestResponse) {
    for (const c of res.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      const gone = c.value === '' || (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0;
      if (gone) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    this.last = res;
    return res;
  }

  async get(
    url: string,
    options: { follow?: boolean; method?: 'GET' | 'HEAD'; headers?: Record<string, string> } = {},
  ) {
    let res = this.keep(
      await this.h.app.inject({
        method: options.method ?? 'GET',
        url,
        remoteAddress: this.ip,
        headers: { cookie: this.cookieHeader(), ...options.headers },
      }),
    );
    if (options.follow) res = await this.follow(res);
    return res;
  }

  /**
   * Posts a form; `_csrf` comes from the last page unless given (null: none at all), and so does the
   * hidden `invitation` tag of the invitation the page showed, as a browser would send them.
   */
  async post(
    url: string,
    form: Record<string, string>,
    options: { follow?: boolean; csrf?: string | null; headers?: Record<string, string> } = {},
  ) {
    const csrf = options.csrf === undefined ? this.csrf() : options.csrf;
    const tag = /name="invitation" value="([^"]*)"/.exec(this.last?.body ?? '')?.[1];
    const body = new URLSearchParams({
      ...(tag === undefined ? {} : { invitation: tag }),
      ...form,
      ...(csrf === null ? {} : { _csrf: csrf }),
    }).toString();
    let res = this.keep(
      await this.h.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.ip,
        headers: {
          cookie: this.cookieHeader(),
          'content-type': 'application/x-www-form-urlencoded',
          ...options.headers,
        },
        payload: body,
      }),
    );
    if (options.follow) res = await this.follow(res);
    return res;
  }

  async follow(res: LightMyRequestResponse, hops = 5): Promise<LightMyRequestResponse> {
    let r = res;
    for (let i = 0; i < hops && r.statusCode >= 300 && r.statusCode < 400; i++) {
      r = await this.get(r.headers.location as string);
    }
    return r;
  }

  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.last?.body ?? '');
    return m?.[1] ?? '';
  }

  /** The session cookie's value (its name depends on https). */
  session(): string | undefined {
    return this.cookies.get('admit_session') ?? this.cookies.get('__Host-admit_session');
  }
}

/** The text of a page without tags, for assertions on what a person reads. */
export const textOf = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
