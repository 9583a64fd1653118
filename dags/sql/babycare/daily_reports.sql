-- One report row per user for the run's day: what the app shows each parent the next morning.
SELECT
  DATE '{{ ds }}' AS day,
  user_id,
  COUNT(*) AS events,
  SUM(IF(event_type = 'milk', value, 0)) AS milk_ml,
  COUNTIF(event_type = 'milk') AS milk_feeds,
  COUNTIF(event_type = 'diaper') AS diapers,
  SUM(IF(event_type = 'sleep', value, 0)) AS sleep_min,
  COUNTIF(event_type = 'bath') AS baths,
  MIN(event_time) AS first_event_at,
  MAX(event_time) AS last_event_at
FROM `raw.babycare_events`
WHERE DATE(event_time) = DATE '{{ ds }}'
GROUP BY user_id
