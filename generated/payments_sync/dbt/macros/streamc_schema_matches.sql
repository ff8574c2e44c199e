{#- Schema drift: one row per contract column missing from the relation and per column the contract lacks. -#}
{% test streamc_schema_matches(model, columns) %}
{%- set expected = columns | map('lower') | list -%}
{%- set found = get_columns_in_query('SELECT * FROM ' ~ model) if execute else columns -%}
{%- set actual = found | map('lower') | list -%}
{%- set missing = expected | reject('in', actual) | list -%}
{%- set unexpected = actual | reject('in', expected) | list %}
  WITH drift AS (
    SELECT
      CAST(NULL AS {{ dbt.type_string() }}) AS column_name,
      CAST(NULL AS {{ dbt.type_string() }}) AS problem
    {{ ("UNION ALL SELECT '" ~ missing | join("', 'missing' UNION ALL SELECT '") ~ "', 'missing'")
       if missing else '' }}
    {{ ("UNION ALL SELECT '" ~ unexpected | join("', 'unexpected' UNION ALL SELECT '") ~ "', 'unexpected'")
       if unexpected else '' }}
  )

  SELECT
    column_name,
    problem
  FROM drift
  WHERE column_name IS NOT NULL
{% endtest %}
