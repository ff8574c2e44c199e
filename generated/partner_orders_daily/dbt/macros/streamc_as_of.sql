{#- "Now" for recency tests: the `streamc_as_of` var when set (backfills, sample data), else the current time. -#}
{% macro streamc_as_of() -%}
  {%- if var('streamc_as_of', none) -%}
    CAST('{{ var("streamc_as_of") }}' AS {{ dbt.type_timestamp() }})
  {%- else -%}
    {{ dbt.current_timestamp() }}
  {%- endif -%}
{%- endmacro %}
