{#- Fails when the latest day's row count is not `<comparison> factor x` the average of the `days` days before. -#}
{#- No baseline yet (a first load) passes. -#}
{% test streamc_volume_anomaly(model, date_column, comparison='>=', factor=0.8, days=7) %}
  WITH daily AS (
    SELECT
      CAST({{ date_column }} AS DATE) AS load_day,
      COUNT(*) AS row_count
    FROM {{ model }}
    GROUP BY CAST({{ date_column }} AS DATE)
  ),

  latest AS (
    SELECT MAX(load_day) AS load_day
    FROM daily
  ),

  baseline AS (
    SELECT AVG(daily.row_count) AS avg_rows
    FROM daily
    CROSS JOIN latest
    WHERE
      daily.load_day < latest.load_day
      AND daily.load_day >= CAST({{ dbt.dateadd('day', -days, 'latest.load_day') }} AS DATE)
  )

  SELECT
    daily.load_day,
    daily.row_count,
    baseline.avg_rows
  FROM daily
  INNER JOIN latest ON daily.load_day = latest.load_day
  CROSS JOIN baseline
  WHERE
    baseline.avg_rows IS NOT NULL
    AND NOT (daily.row_count {{ comparison }} {{ factor }} * baseline.avg_rows)
{% endtest %}
