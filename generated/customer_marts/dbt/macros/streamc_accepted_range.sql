{#- Fails for every value outside [min_value, max_value] (inclusive; an omitted bound compares with NULL: no limit). -#}
{% test streamc_accepted_range(model, column_name, min_value=none, max_value=none) %}
  SELECT {{ column_name }}
  FROM {{ model }}
  WHERE
    {{ column_name }} < {{ min_value if min_value is not none else 'NULL' }}
    OR {{ column_name }} > {{ max_value if max_value is not none else 'NULL' }}
{% endtest %}
