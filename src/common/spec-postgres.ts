// The Postgres source and target specs, their validation, and identifier quoting.
// Pure code: the workflow imports it (through spec.ts), so no Node built-ins, no pg, no I/O here.

/**
 * Target `postgres`: one parameterized statement per batch of items, on one connection per chunk.
 * Parameter i is the array of `params[i]` rendered for every item of the batch, so a batch is one
 * statement such as `INSERT ... SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT ... DO UPDATE`.
 */
export interface PostgresTargetSpec {
  type: 'postgres';
  /** Exactly `${env:NAME}`: the connection string is read from the worker's environment, never from the spec. */
  connection: string;
  /** One statement with `$1..$n`; make it an upsert so a retried chunk writes nothing twice. */
  sql: string;
  /**
   * One template per SQL parameter (`{{key}}`, `{{item.field}}`, or any JSON), rendered per item;
   * objects and arrays are passed as JSON text (cast with `::jsonb[]`).
   */
  params: unknown[];
  /** Rows per statement. @default 500 */
  batchSize?: number;
}

/** Source `postgres`: the rows of a table, in key order, chunked by key ranges (keyset pagination). */
export interface PostgresSourceSpec {
  type: 'postgres';
  /** Exactly `${env:NAME}`, as for the target. */
  connection: string;
  /** `table` or `schema.table`; quoted as given, so case matters. */
  table: string;
  /** A unique, ordered column (the primary key); rows where it is NULL are skipped. */
  key: string;
  /** Columns each item carries. @default all columns */
  columns?: string[];
  /** A SQL condition on the table's rows (no `;`), fixed in the spec: never built from item data. */
  where?: string;
}

export const POSTGRES_DEFAULTS = { batchSize: 500, maxBatchSize: 100_000 } as const;

/** A plain SQL identifier: quoted as is, so no quote, dot or space can break out of it. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const ONLY_ENV_REF = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;

/** `"name"`, after checking the name is a plain identifier. */
export function quoteIdent(name: string): string {
  if (!IDENTIFIER.test(name)) throw new RangeError(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** `"schema"."table"` or `"table"`. */
export function quoteQualified(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2) throw new RangeError(`expected table or schema.table, got ${JSON.stringify(name)}`);
  return parts.map(quoteIdent).join('.');
}

type Problems = string[];

const show = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** Hides the password of a connection URL or `password=` setting, so an error message never repeats it. */
export function maskConnection(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@').replace(/(password\s*=\s*)\S+/gi, '$1***');
}

function connection(obj: Record<string, unknown>, path: string, problems: Problems): void {
  const value = obj.connection;
  const use = 'set it in the worker\'s environment and write "${env:DATABASE_URL}" (secrets never go into workflow history)';
  if (value === undefined) return void problems.push(`${path}connection: required, expected "\${env:NAME}", the name of a worker environment variable holding the connection string`);
  if (typeof value !== 'string') return void problems.push(`${path}connection: expected "\${env:NAME}", got ${show(value)}`);
  if (ONLY_ENV_REF.test(value)) return;
  if (/:\/\/|=/.test(value)) problems.push(`${path}connection: a connection string must not be in the spec; ${use}, got ${show(maskConnection(value))}`);
  else problems.push(`${path}connection: expected exactly "\${env:NAME}"; ${use}, got ${show(value)}`);
}

function identifier(value: unknown, field: string, path: string, problems: Problems, qualified = false): void {
  const parts = typeof value === 'string' ? value.split('.') : [];
  const ok = parts.length >= 1 && parts.length <= (qualified ? 2 : 1) && parts.every((p) => IDENTIFIER.test(p));
  if (!ok) problems.push(`${path}${field}: ${value === undefined ? 'required, ' : ''}expected ${qualified ? 'a table name or schema.table' : 'a column name'} made of letters, digits, _ and $ (not starting with a digit), got ${show(value)}`);
}

function onlyKnown(obj: Record<string, unknown>, known: readonly string[], path: string, problems: Problems): void {
  for (const field of Object.keys(obj)) if (!known.includes(field)) problems.push(`${path}${field}: unknown field (known: ${known.join(', ')})`);
}

/** Highest `$n` placeholder in a SQL text (0 when there is none). Quoted text is skipped. */
export function highestParam(sql: string): number {
  const unquoted = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*/g, ' ');
  let highest = 0;
  for (const m of unquoted.matchAll(/\$(\d+)/g)) highest = Math.max(highest, Number(m[1]));
  return highest;
}

/** Why a `where` fragment could escape its parentheses or add a statement, or undefined when it cannot. */
export function wherePitfall(where: string): string | undefined {
  const unquoted = where.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, ' _ ');
  if (/'/.test(unquoted)) return 'has an unclosed quote';
  if (unquoted.includes(';')) return 'must be one condition, without ";"';
  if (/--|\/\*/.test(unquoted)) return 'must not contain SQL comments';
  let depth = 0;
  for (const c of unquoted) {
    depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    if (depth < 0) return 'has a ")" without its "("';
  }
  return depth === 0 ? undefined : 'has a "(" without its ")"';
}

export function checkPostgresTarget(t: Record<string, unknown>, p: string, problems: Problems): void {
  onlyKnown(t, ['type', 'connection', 'sql', 'params', 'batchSize'], p, problems);
  connection(t, p, problems);
  if (typeof t.sql !== 'string' || t.sql.trim() === '') problems.push(`${p}sql: ${t.sql === undefined ? 'required, ' : ''}expected one SQL statement with $1..$n parameters, got ${show(t.sql)}`);
  if (!Array.isArray(t.params) || t.params.length === 0) {
    problems.push(`${p}params: ${t.params === undefined ? 'required, ' : ''}expected a non-empty array of templates such as ["{{key}}", "{{item.name}}"], one per SQL parameter, got ${show(t.params)}`);
  } else if (typeof t.sql === 'string' && t.sql.trim() !== '') {
    const highest = highestParam(t.sql);
    if (highest !== t.params.length) problems.push(`${p}params: the sql uses ${highest === 0 ? 'no parameter' : `$1..$${highest}`}, expected as many params entries, got ${t.params.length}`);
  }
  const size = t.batchSize;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > POSTGRES_DEFAULTS.maxBatchSize)) {
    problems.push(`${p}batchSize: expected a whole number from 1 to ${POSTGRES_DEFAULTS.maxBatchSize}, got ${show(size)}`);
  }
}

export function checkPostgresSource(s: Record<string, unknown>, p: string, problems: Problems): void {
  onlyKnown(s, ['type', 'connection', 'table', 'key', 'columns', 'where'], p, problems);
  connection(s, p, problems);
  identifier(s.table, 'table', p, problems, true);
  identifier(s.key, 'key', p, problems);
  if (s.columns !== undefined) {
    if (!Array.isArray(s.columns) || s.columns.length === 0) problems.push(`${p}columns: expected a non-empty array of column names, got ${show(s.columns)}`);
    else s.columns.forEach((c, i) => identifier(c, `columns[${i}]`, p, problems));
  }
  if (s.where !== undefined) {
    if (typeof s.where !== 'string' || s.where.trim() === '') problems.push(`${p}where: expected a SQL condition such as "status = 'active'", got ${show(s.where)}`);
    else {
      const pitfall = wherePitfall(s.where);
      if (pitfall) problems.push(`${p}where: ${pitfall}, got ${show(s.where)}`);
    }
  }
}
