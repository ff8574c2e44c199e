-- Application schema the sample CDC pipeline captures (stands in for the user's database).
CREATE SCHEMA shop;

CREATE TABLE shop.orders (
    id          integer PRIMARY KEY,
    customer_id integer      NOT NULL,
    amount      numeric(10,2) NOT NULL,
    card_number text,                      -- PII: excluded from CDC by column.exclude.list
    status      text         NOT NULL DEFAULT 'new'
);

CREATE TABLE shop.customers (
    id    integer PRIMARY KEY,
    name  text NOT NULL,
    email text
);

-- Not part of the pipeline: must never show up in the publication / change stream.
CREATE TABLE shop.audit_log (
    id  serial PRIMARY KEY,
    msg text NOT NULL
);
