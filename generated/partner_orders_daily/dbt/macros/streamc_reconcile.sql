{#- Fails when `measure` on the model and `compare_measure` on `compare_to` differ by more than tolerance_pct %. -#}
{% test streamc_reconcile(model, compare_to, measure='COUNT(*)', compare_measure='COUNT(*)', tolerance_pct=0) %}
  WITH target AS (
    SELECT COALESCE({{ measure }}, 0) AS amount
    FROM {{ model }}
  ),

  origin AS (
    SELECT COALESCE({{ compare_measure }}, 0) AS amount
    FROM {{ compare_to }}
  )

  SELECT
    target.amount AS target_amount,
    origin.amount AS origin_amount
  FROM target
  CROSS JOIN origin
  WHERE ABS(target.amount - origin.amount) > {{ tolerance_pct }} / 100.0 * ABS(origin.amount)
{% endtest %}
