// Job spec validation: every problem names its field and the value given.
import { checkMaxParallelism, envRefs, InvalidSpecError, specProblems, validateSpec } from '../src/common/spec';

const valid = {
  source: { type: 'range', start: 0, end: 10 },
  target: { type: 'http', url: 'http://127.0.0.1:9/items/{{key}}' },
  maxParallelism: 4,
};

test('a valid spec has no problems', () => {
  expect(specProblems(valid)).toEqual([]);
  expect(validateSpec(valid)).toBe(valid);
});

test.each([
  [{ ...valid, maxParallelism: undefined }, 'maxParallelism: required'],
  [{ ...valid, maxParallelism: 0 }, 'maxParallelism: expected a whole number from 1 to 10000, got 0'],
  [{ ...valid, maxParallelism: 2.5 }, 'got 2.5'],
  [{ ...valid, maxParallelism: 'x' }, 'got "x"'],
  [{ ...valid, chunkSize: -1 }, 'chunkSize: expected a whole number from 1 to 1000000, got -1'],
  [{ ...valid, source: undefined }, 'source: required'],
  [{ ...valid, target: { type: 'http' } }, 'target.url: required'],
  [{ ...valid, target: { type: 'http', url: 'ftp://x' } }, 'target.url: expected an http:// or https:// URL, got "ftp://x"'],
  [{ ...valid, source: { type: 'range', start: 5, end: 1 } }, 'source.end: must not be below start (5), got 1'],
  [{ ...valid, source: { type: 'jsonl' } }, 'source.path: required'],
  [{ ...valid, source: { type: 'keys', keys: [1, {}] } }, 'source.keys[1]: expected a string or a number, got {}'],
  [{ ...valid, pacing: { requestsPerSecond: 0 } }, 'pacing.requestsPerSecond: expected a number above 0, got 0'],
  [{ ...valid, retry: { maxInterval: 'soon' } }, `retry.maxInterval: expected a duration such as 500, '250ms', '30s' or '5m', got "soon"`],
  [{ ...valid, retry: { toleratedFailurePercent: 100 } }, 'retry.toleratedFailurePercent: expected a number from 0 to below 100, got 100'],
  [{ ...valid, chunksize: 10 }, 'chunksize: unknown field'],
  ['{}', 'job spec: expected a JSON object, got "{}"'],
])('rejects %j naming the field', (spec, message) => {
  const problems = specProblems(spec);
  expect(problems.join('; ')).toContain(message);
  expect(() => validateSpec(spec)).toThrow(InvalidSpecError);
});

test('reports every problem at once', () => {
  const problems = specProblems({ source: { type: 'range' }, target: { type: 'http' }, maxParallelism: -1 });
  expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^source\.start/), expect.stringMatching(/^source\.end/), expect.stringMatching(/^target\.url/), expect.stringMatching(/^maxParallelism/)]));
});

test('an unknown source or target type passes here and is checked by the worker registry', () => {
  expect(specProblems({ ...valid, target: { type: 'my-target', anything: 1 } })).toEqual([]);
});

test('the cap check is shared by the CLI, the signal and the update', () => {
  expect(checkMaxParallelism(8)).toBeUndefined();
  for (const bad of [0, -1, 2.5, 'x', null, 10_001]) expect(checkMaxParallelism(bad)).toMatch(/^maxParallelism: expected a whole number from 1 to 10000, got /);
});

test('env references are listed so the worker can check them before any chunk runs', () => {
  expect(envRefs({ headers: { a: 'Bearer ${env:API_TOKEN}', b: '${env:OTHER}${env:API_TOKEN}' } })).toEqual(['API_TOKEN', 'OTHER']);
});

test('an inline key list is bounded so that it fits in the workflow input, with a way out named', () => {
  const keys = (n: number) => ({ ...valid, source: { type: 'keys', keys: Array.from({ length: n }, (_, i) => i) } });
  expect(specProblems(keys(100_000))).toEqual([]);
  expect(specProblems(keys(100_001))).toEqual([
    "source.keys: at most 100000 keys fit in a job's input, got 100001; put them in a JSONL file or a table and use that source",
  ]);
});
