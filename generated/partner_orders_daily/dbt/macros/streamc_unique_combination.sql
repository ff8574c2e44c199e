{#- Fails for every combination of `columns` that occurs more than once (a composite key or grain). -#}
{% test streamc_unique_combination(model, columns) %}
  SELECT
    {{ columns | join(', ') }},
    COUNT(*) AS occurrences
  FROM {{ model }}
  GROUP BY {{ columns | join(', ') }}
  HAVING COUNT(*) > 1
{% endtest %}
