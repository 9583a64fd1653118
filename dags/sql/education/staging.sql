-- Staging of one app table ({{ app.table }}): the day's export without repeated ids (the latest
-- update wins), and the zone-less Tokyo timestamps made TIMESTAMPs.
SELECT
  DATE '{{ ds }}' AS snapshot_date,
  id,
  `{{ app.columns[1] }}`,
  TIMESTAMP(created_at, 'Asia/Tokyo') AS created_at,
  TIMESTAMP(updated_at, 'Asia/Tokyo') AS updated_at,
  status
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at DESC) AS copy
  FROM `raw.{{ app.table }}`
  WHERE _PARTITIONDATE = DATE '{{ ds }}'
)
WHERE copy = 1
