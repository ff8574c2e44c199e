-- CDC setup for the sample pipeline (what streamc's PostgreSQL backend is expected to emit).
-- Run as a superuser (or the table owner) in the captured database. Requires wal_level=logical.

-- 1. Replication role, least privilege: it may log in and open replication connections,
--    read only the captured tables, and nothing else (no CREATE, no superuser).
CREATE ROLE streamc_cdc WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE
    PASSWORD 'cdc_secret';
GRANT CONNECT ON DATABASE appdb TO streamc_cdc;
GRANT USAGE ON SCHEMA shop TO streamc_cdc;
GRANT SELECT ON TABLE shop.orders, shop.customers TO streamc_cdc;

-- 2. Full before-images for updates/deletes.
ALTER TABLE shop.orders    REPLICA IDENTITY FULL;
ALTER TABLE shop.customers REPLICA IDENTITY FULL;

-- 3. Publication limited to the captured tables (the connector uses publication.autocreate.mode=disabled,
--    so the role needs no ownership of the tables).
CREATE PUBLICATION streamc_shop_pub FOR TABLE shop.orders, shop.customers
    WITH (publish = 'insert, update, delete, truncate');
