// Pure logic of the Postgres plug-ins: spec checks, identifier quoting, error classes, bisection, batch parameters.
import { bisect, classifyPgError } from '../src/activities/pg';
import { sourceSql } from '../src/activities/sources/postgres';
import { batchParams, paramValue } from '../src/activities/targets/postgres';
import { specProblems } from '../src/common/spec';
import { highestParam, maskConnection, quoteIdent, quoteQualified, wherePitfall } from '../src/common/spec-postgres';

const target = (fields: Record<string, unknown> = {}) => ({
  type: 'postgres',
  connection: '${env:DATABASE_URL}',
  sql: 'INSERT INTO t (id, name) SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name',
  params: ['{{key}}', '{{item.name}}'],
  ...fields,
});
const source = (fields: Record<string, unknown> = {}) => ({ type: 'postgres', connection: '${env:DATABASE_URL}', table: 'public.users', key: 'id', ...fields });
const problems = (t: Record<string, unknown>, s: Record<string, unknown> = { type: 'range', start: 0, end: 10 }) => specProblems({ source: s, target: t, maxParallelism: 4 });

describe('spec checks', () => {
  test('valid target and source specs pass', () => {
    expect(problems(target({ batchSize: 1000 }), source({ columns: ['name', 'email'], where: "status = 'active' AND (a > 1 OR b)" }))).toEqual([]);
  });

  test('a literal connection string is rejected, told to use ${env:NAME}, with its password masked', () => {
    const [problem, ...rest] = problems(target({ connection: 'postgres://app:s3cret@db.internal:5432/prod' }));
    expect(rest).toEqual([]);
    expect(problem).toContain('target.connection: a connection string must not be in the spec');
    expect(problem).toContain('"${env:DATABASE_URL}"');
    expect(problem).toContain('postgres://app:***@db.internal:5432/prod');
    expect(problem).not.toContain('s3cret');
    expect(problems(target({ connection: 'host=db password=s3cret' }))[0]).not.toContain('s3cret');
    expect(problems(target({ connection: 'DATABASE_URL' }))).toEqual([expect.stringContaining('target.connection: expected exactly "${env:NAME}"')]);
    expect(problems(target({ connection: undefined }))).toEqual([expect.stringContaining('target.connection: required')]);
  });

  test('target fields name the field, the expectation and the value', () => {
    expect(problems(target({ params: [] }))).toEqual([expect.stringMatching(/^target\.params: expected a non-empty array of templates .* got \[\]$/)]);
    expect(problems(target({ params: ['{{key}}'] }))).toEqual(['target.params: the sql uses $1..$2, expected as many params entries, got 1']);
    expect(problems(target({ sql: 'DELETE FROM t' }))).toEqual(['target.params: the sql uses no parameter, expected as many params entries, got 2']);
    expect(problems(target({ batchSize: 0 }))).toEqual(['target.batchSize: expected a whole number from 1 to 100000, got 0']);
    expect(problems(target({ sql: '' }))).toEqual([expect.stringMatching(/^target\.sql: expected one SQL statement/)]);
    expect(problems(target({ table: 'x' }))).toEqual([expect.stringMatching(/^target\.table: unknown field/)]);
  });

  test('source identifiers must be plain names; where must stay one parenthesized condition', () => {
    expect(problems(target(), source({ table: 'users; DROP TABLE x' }))).toEqual([expect.stringMatching(/^source\.table: expected a table name or schema\.table .* got "users; DROP TABLE x"$/)]);
    expect(problems(target(), source({ table: 'a.b.c' }))).toHaveLength(1);
    expect(problems(target(), source({ key: 'id"' }))).toEqual([expect.stringMatching(/^source\.key: expected a column name/)]);
    expect(problems(target(), source({ columns: ['ok', '1bad'] }))).toEqual([expect.stringMatching(/^source\.columns\[1\]: expected a column name/)]);
    expect(problems(target(), source({ columns: [] }))).toEqual([expect.stringMatching(/^source\.columns: expected a non-empty array/)]);
    expect(problems(target(), source({ where: 'a = 1) OR (true' }))).toEqual([expect.stringContaining('source.where: has a ")" without its "("')]);
    expect(problems(target(), source({ where: 'a = 1; DELETE FROM t' }))).toEqual([expect.stringContaining('without ";"')]);
    expect(problems(target(), source({ where: 'a = 1 -- note' }))).toEqual([expect.stringContaining('comments')]);
    expect(problems(target(), source({ table: undefined }))).toEqual([expect.stringMatching(/^source\.table: required/)]);
  });

  test('where pitfalls ignore quoted text', () => {
    expect(wherePitfall("name = 'a;b)' AND \"odd)col\" > 0")).toBeUndefined();
    expect(wherePitfall("name = 'it''s'")).toBeUndefined();
    expect(wherePitfall("name = 'open")).toBe('has an unclosed quote');
    expect(wherePitfall('(a')).toBe('has a "(" without its ")"');
  });

  test('highest $n ignores quoted text and comments', () => {
    expect(highestParam('SELECT $1, $12::int')).toBe(12);
    expect(highestParam("SELECT '$9', $2 -- $7\n")).toBe(2);
    expect(highestParam('SELECT 1')).toBe(0);
  });

  test('masking hides passwords only', () => {
    expect(maskConnection('postgresql://u:p@h/db and postgres://h/db')).toBe('postgresql://u:***@h/db and postgres://h/db');
  });
});

test('identifiers are validated, then double-quoted', () => {
  expect(quoteIdent('Users')).toBe('"Users"');
  expect(quoteQualified('public.users')).toBe('"public"."users"');
  expect(() => quoteIdent('x" OR 1=1 --')).toThrow(RangeError);
  expect(() => quoteQualified('a.b.c')).toThrow(RangeError);
});

test('source SQL quotes identifiers, keeps where in its own parentheses, and passes every value as a parameter', () => {
  const sql = sourceSql({ type: 'postgres', connection: '${env:X}', table: 'app.users', key: 'id', columns: ['email'], where: 'active' });
  expect(sql.range(true)).toBe('SELECT "email", "id" FROM "app"."users" WHERE (\nactive\n) AND "id" IS NOT NULL AND "id" > $4 AND "id" <= $1 ORDER BY "id" OFFSET $2 LIMIT $3');
  expect(sql.range(false)).not.toContain('$4');
  expect(sql.lookup).toContain('"id" = ANY($1)');
  expect(sql.boundaries(true)).toContain('LIMIT $1');
  expect(sourceSql({ type: 'postgres', connection: '${env:X}', table: 't', key: 'k' }).check).toBe('SELECT * FROM "t" WHERE "k" IS NOT NULL ORDER BY "k" LIMIT 0');
});

describe('error classes', () => {
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  test.each([
    ['23514', 'data'], ['23505', 'data'], ['22P02', 'data'], ['21000', 'data'],
    ['53300', 'transient'], ['57P01', 'transient'], ['57P03', 'transient'], ['40001', 'transient'], ['40P01', 'transient'], ['08006', 'transient'],
    ['42601', 'fatal'], ['42P01', 'fatal'], ['42501', 'fatal'], ['28P01', 'fatal'], ['3D000', 'fatal'],
    ['XX000', 'unknown'],
  ])('SQLSTATE %s is %s', (code, kind) => {
    expect(classifyPgError(pgError(code)).kind).toBe(kind);
  });

  test('network failures are transient and need a new connection; a serialization failure does not', () => {
    expect(classifyPgError(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toMatchObject({ kind: 'transient', reconnect: true });
    expect(classifyPgError(new Error('Connection terminated unexpectedly'))).toMatchObject({ kind: 'transient', reconnect: true });
    expect(classifyPgError(pgError('40001'))).toMatchObject({ kind: 'transient', reconnect: false });
    expect(classifyPgError(new TypeError('boom'))).toMatchObject({ kind: 'unknown' });
  });

  test('a password in an error message is masked', () => {
    expect(classifyPgError(new Error('cannot reach postgres://u:pw@h/db')).message).toBe('cannot reach postgres://u:***@h/db');
  });
});

describe('bisect', () => {
  async function run(n: number, bad: number[]) {
    const calls: number[][] = [];
    const errors = await bisect(Array.from({ length: n }, (_, i) => i), async (batch) => {
      calls.push(batch);
      const hit = batch.find((i) => bad.includes(i));
      return hit === undefined ? undefined : `bad ${hit}`;
    });
    return { errors, calls };
  }

  test('a clean batch is one statement', async () => {
    const { errors, calls } = await run(500, []);
    expect(calls).toHaveLength(1);
    expect(errors.every((e) => e === undefined)).toBe(true);
  });

  test('bad items end alone with their own error; every good item lands exactly once', async () => {
    const bad = [3, 250, 251];
    const { errors, calls } = await run(500, bad);
    expect(errors.flatMap((e, i) => (e ? [[i, e]] : []))).toEqual(bad.map((i) => [i, `bad ${i}`]));
    const landed = calls.filter((batch) => !batch.some((i) => bad.includes(i))).flat();
    expect(landed.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i).filter((i) => !bad.includes(i)));
    expect(calls.length).toBeLessThanOrEqual(1 + bad.length * 2 * Math.ceil(Math.log2(500)));
  });

  test('an empty batch runs nothing', async () => {
    expect(await run(0, [])).toEqual({ errors: [], calls: [] });
  });
});

test('batch parameters: one array per template, values typed, objects as JSON, missing as NULL', () => {
  const items = [
    { key: 1, value: { name: 'a', tags: ['x'], n: 2 } },
    { key: 2, value: { n: 3 } },
  ];
  const params = ['{{key}}', '{{item.name}}', '{{item.tags}}', 'n={{item.n}}'];
  const rows = items.map((item) => params.map((t) => paramValue(t, item)));
  expect(batchParams(params, rows)).toEqual([[1, 2], ['a', null], ['["x"]', null], ['n=2', 'n=3']]);
});
