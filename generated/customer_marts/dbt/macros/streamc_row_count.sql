{#- Fails when the relation's row count does not satisfy `<count> <comparison> <threshold>`. -#}
{% test streamc_row_count(model, comparison='>', threshold=0) %}
  WITH counted AS (
    SELECT COUNT(*) AS row_count
    FROM {{ model }}
  )

  SELECT row_count
  FROM counted
  WHERE NOT (row_count {{ comparison }} {{ threshold }})
{% endtest %}
