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

/** Template versions kept compiled per thread, the least recently used dropped first. */
const CACHED_TEMPLATES = 100;
const cache = new Map<string, CompiledTemplate>();

/**
 * The compiled form of the template version `key` (the same key must mean the same parts), parsed
 * again only after CACHED_TEMPLATES other versions were used since.
 */
export function compiledFor(key: string, src: TemplateSource): CompiledTemplate {
  const compiled = cache.get(key) ?? compileTemplate(src);
  cache.delete(key);
  cache.set(key, compiled);
  if (cache.size > CACHED_TEMPLATES) cache.delete(cache.keys().next().value as string);
  return compiled;
}

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

/** What Liquid reads on any string or array (`{{ name.size }}`). */
const BUILT_IN_PROPERTIES = new Set(['size', 'first', 'last']);

/**
 * The variables a template reads that `vars` does not have (e.g. `contact.frstName`), each once, in
 * the order met: they would render empty. Variables the template assigns or loops over are its own.
 * Invalid Liquid is VALIDATION_FAILED, as compileTemplate says.
 */
export function unknownVariables(src: TemplateSource, vars: Record<string, unknown>): string[] {
  const compiled = compileTemplate(src);
  const unknown = new Set<string>();
  for (const part of ['subject', 'html', 'text'] as const) {
    const engine = part === 'html' ? htmlEngine : textEngine;
    for (const segments of engine.globalVariableSegmentsSync(compiled[part])) {
      // A segment that is itself a variable (`contact[key]`) is only known when rendered.
      if (segments.some((s) => typeof s !== 'string' && typeof s !== 'number')) continue;
      let value: unknown = vars;
      for (const [i, segment] of segments.entries()) {
        const key = String(segment);
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          if (!Object.hasOwn(value, key)) {
            unknown.add(segments.slice(0, i + 1).join('.'));
            break;
          }
          value = (value as Record<string, unknown>)[key];
        } else {
          if (!BUILT_IN_PROPERTIES.has(key)) unknown.add(segments.slice(0, i + 1).join('.'));
          break;
        }
      }
    }
  }
  return [...unknown];
}
