{#- Fails for every row where `expression` is false (a column `check (...)` of the spec; NULL passes, as in SQL). -#}
{% test streamc_expression_is_true(model, expression, column_name=none) %}
  SELECT *
  FROM {{ model }}
  WHERE NOT ({{ expression }})
{% endtest %}
