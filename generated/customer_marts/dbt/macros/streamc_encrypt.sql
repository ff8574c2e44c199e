{#- pii(encrypt): symmetric encryption with the key the deployment provides in STREAMC_PII_ENCRYPTION_KEY. -#}
{#- The key is read from the environment at run time; it is never written in the project. -#}
{% macro streamc_encrypt(column_name) -%}
  ENCODE(PGP_SYM_ENCRYPT(CAST({{ column_name }} AS TEXT), '{{ env_var('STREAMC_PII_ENCRYPTION_KEY') }}'), 'base64')
{%- endmacro %}
