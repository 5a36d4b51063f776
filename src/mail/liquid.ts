import { Liquid, type Template } from 'liquidjs';
import { AppError } from '../errors.ts';

/**
 * Liquid rendering of email templates. HTML output is auto-escaped (a contact named
 * `<script>` stays text); subjects and text parts are not HTML. Unknown filters are errors
 * (strictFilters); unknown variables render empty. Parsed templates are cached by version.
 */
// `templates: {}`: no file system; a template cannot include files from the server.
const options = {
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  cache: false,
  templates: {},
} as const;
const htmlEngine = new Liquid({ ...options, outputEscape: 'escape' });
const textEngine = new Liquid(options);

export interface TemplateSource {
  subject: string;
  html: string;
  text: string;
}

export interface CompiledTemplate {
  subject: Template[];
  html: Template[];
  text: Template[];
}

export interface Rendered {
  subject: string;
  html: string;
  text: string;
}

/** Parses a template; VALIDATION_FAILED naming the part and the Liquid error otherwise. */
export function compileTemplate(src: TemplateSource): CompiledTemplate {
  const parse = (engine: Liquid, part: keyof TemplateSource) => {
    try {
      const parsed = engine.parse(src[part]);
      engine.renderSync(parsed, {});
      return parsed;
    } catch (err) {
      const message = `The ${part} is not valid Liquid: ${(err as Error).message}`;
      throw new AppError('VALIDATION_FAILED', message, [{ path: `/${part}`, message }]);
    }
  };
  return {
    subject: parse(textEngine, 'subject'),
    html: parse(htmlEngine, 'html'),
    text: parse(textEngine, 'text'),
  };
}

const cache = new Map<string, CompiledTemplate>();

/** The compiled form of a stored template version (id + updatedAt), parsed once per process. */
export function compiledFor(key: string, src: TemplateSource): CompiledTemplate {
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compileTemplate(src);
    if (cache.size > 100) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

/** The compiled template version `key`, if this process (or thread) has parsed it. */
export const cachedTemplate = (key: string): CompiledTemplate | undefined => cache.get(key);

export function render(t: CompiledTemplate, vars: Record<string, unknown>): Rendered {
  return {
    subject: textEngine.renderSync(t.subject, vars).replace(/\s+/g, ' ').trim(),
    html: htmlEngine.renderSync(t.html, vars),
    text: textEngine.renderSync(t.text, vars),
  };
}

/** Checks that `source` parses as HTML Liquid; VALIDATION_FAILED at `path` otherwise. */
export function checkHtmlLiquid(source: string, path: string): void {
  try {
    htmlEngine.parse(source);
  } catch (err) {
    const message = `The content is not valid Liquid: ${(err as Error).message}`;
    throw new AppError('VALIDATION_FAILED', message, [{ path, message }]);
  }
}

/** Renders admin-authored HTML Liquid (web pages) with output escaped. */
export const renderHtmlLiquid = (source: string, vars: Record<string, unknown>): Promise<string> =>
  htmlEngine.parseAndRender(source, vars);
