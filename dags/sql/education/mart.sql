-- Mart of one app table ({{ app.table }}): rows per status on the day, and how many were created
-- or updated that day (Tokyo time).
SELECT
  snapshot_date,
  status,
  COUNT(*) AS row_count,
  COUNT(DISTINCT id) AS distinct_ids,
  COUNTIF(DATE(created_at, 'Asia/Tokyo') = snapshot_date) AS created_that_day,
  COUNTIF(DATE(updated_at, 'Asia/Tokyo') = snapshot_date) AS updated_that_day
FROM `staging.{{ app.table }}`
WHERE snapshot_date = DATE '{{ ds }}'
GROUP BY snapshot_date, status
