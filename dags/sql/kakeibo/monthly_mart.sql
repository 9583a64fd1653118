-- Month-to-date spending per category, as of the run's day.
SELECT
  DATE '{{ ds }}' AS day,
  category,
  SUM(amount) AS total,
  COUNT(*) AS items
FROM `raw.expenses`
WHERE date BETWEEN DATE_TRUNC(DATE '{{ ds }}', MONTH) AND DATE '{{ ds }}'
GROUP BY category
