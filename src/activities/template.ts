// Templates in target specs: `{{key}}`, `{{item}}`, `{{item.a.b}}` from the item; `${env:NAME}` from the worker.
import { ENV_REF } from '../common/spec';
import type { Item } from './plugins';
import { SpecError } from './plugins';

const PLACEHOLDER = /\{\{\s*(key|item(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}/g;
const WHOLE = /^\{\{\s*(key|item(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}$/;

function lookup(item: Item, path: string): unknown {
  if (path === 'key') return item.key;
  let value: unknown = item.value;
  for (const part of path.split('.').slice(1)) value = (value as Record<string, unknown> | null | undefined)?.[part];
  return value;
}

const asText = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Replaces placeholders in a string; `encode` is applied to each value (URL-encoding in URLs). */
export function renderString(template: string, item: Item, encode: (s: string) => string = (s) => s): string {
  return template.replace(PLACEHOLDER, (_m, path: string) => encode(asText(lookup(item, path))));
}

/** Renders a JSON template: a string that is exactly one placeholder keeps the value's type. */
export function renderJson(template: unknown, item: Item): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    return whole ? lookup(item, whole[1] as string) : renderString(template, item);
  }
  if (Array.isArray(template)) return template.map((t) => renderJson(t, item));
  if (template && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderJson(v, item)]));
  }
  return template;
}

/** Resolves `${env:NAME}` references from the worker's environment. A missing variable is a spec error. */
export function resolveEnv<T>(value: T, env: NodeJS.ProcessEnv, field: string): T {
  const text = JSON.stringify(value);
  if (text === undefined || !text.includes('${env:')) return value;
  const resolved = text.replace(ENV_REF, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw new SpecError(`${field}: environment variable ${name} is not set on the worker`);
    return JSON.stringify(v).slice(1, -1);
  });
  return JSON.parse(resolved) as T;
}
