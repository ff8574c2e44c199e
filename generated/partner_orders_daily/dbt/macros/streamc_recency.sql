{#- Fails when the newest `column_name` is older than max_age_seconds before streamc_as_of(), or there is none. -#}
{% test streamc_recency(model, column_name, max_age_seconds) %}
  WITH latest AS (
    SELECT MAX(CAST({{ column_name }} AS {{ dbt.type_timestamp() }})) AS latest_at
    FROM {{ model }}
  )

  SELECT latest_at
  FROM latest
  WHERE
    latest_at IS NULL
    OR latest_at < {{ dbt.dateadd('second', -max_age_seconds, streamc_as_of()) }}
{% endtest %}
