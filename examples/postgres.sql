-- Tables of the Postgres examples (see examples/README.md). Safe to run twice.
-- api-to-postgres.json
CREATE TABLE IF NOT EXISTS api_users (
  id         bigint PRIMARY KEY,
  email      text NOT NULL,
  name       text NOT NULL,
  plan       text NOT NULL CHECK (plan IN ('free', 'pro', 'team')),
  profile    jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL,
  writes     int NOT NULL DEFAULT 1
);

-- table-copy.json: the source, 100,000 rows of which 1,000 archived ...
CREATE TABLE IF NOT EXISTS accounts (
  id         bigint PRIMARY KEY,
  first_name text NOT NULL,
  last_name  text NOT NULL,
  email      text NOT NULL,
  balance    numeric(12, 2) NOT NULL,
  created_at timestamptz NOT NULL,
  archived   boolean NOT NULL DEFAULT false
);
INSERT INTO accounts
SELECT i, 'First' || i, 'Last' || i, '  User' || i || '@Example.COM ', (i % 1000) + 0.25,
       timestamptz '2020-01-01 00:00:00+00' + i * interval '17 minutes', i % 100 = 0
FROM generate_series(1, 100000) AS i
ON CONFLICT (id) DO NOTHING;

-- ... and the target.
CREATE TABLE IF NOT EXISTS accounts_v2 (
  id            bigint PRIMARY KEY,
  display_name  text NOT NULL,
  email         text NOT NULL,
  balance_cents bigint NOT NULL,
  created_at    timestamptz NOT NULL
);
