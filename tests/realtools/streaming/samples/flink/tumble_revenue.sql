-- Sample streaming job: per-customer revenue in 1-minute event-time tumbling windows.
-- ${WORKDIR} is replaced by the harness. Input: ${WORKDIR}/input/orders.csv (bounded).
SET 'pipeline.name' = 'streamc-sample-tumble-revenue';
SET 'table.local-time-zone' = 'UTC';

CREATE TABLE orders_src (
    order_id  INT,
    customer  STRING,
    amount    DECIMAL(10, 2),
    ts        TIMESTAMP(3),
    -- out-of-order rows up to 5 s late still land in their window
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '${WORKDIR}/input/orders.csv',
    'format' = 'csv'
);

CREATE TABLE revenue_per_minute (
    window_start TIMESTAMP(3),
    window_end   TIMESTAMP(3),
    customer     STRING,
    order_count  BIGINT,
    revenue      DECIMAL(10, 2)
) WITH (
    'connector' = 'filesystem',
    'path' = '${WORKDIR}/output/revenue_per_minute',
    'format' = 'csv'  /* one line per window and customer; a ';' here must not split */
);

INSERT INTO revenue_per_minute
SELECT window_start, window_end, customer,
       COUNT(*) AS order_count,
       CAST(SUM(amount) AS DECIMAL(10, 2)) AS revenue
FROM TABLE(TUMBLE(TABLE orders_src, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, customer;
