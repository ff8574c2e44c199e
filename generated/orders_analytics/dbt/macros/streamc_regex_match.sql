{#- Fails for every non-null value that does not match `pattern` (anchor it with ^...$ for a full match). -#}
{% test streamc_regex_match(model, column_name, pattern) %}
  SELECT {{ column_name }}
  FROM {{ model }}
  WHERE
    {{ column_name }} IS NOT NULL
    AND NOT (REGEXP_INSTR({{ column_name }}, '{{ pattern | replace('\\', '\\\\') | replace("'", "\\'") }}') > 0)
{% endtest %}
