-- The floor: the core metrics hand-written in DuckDB SQL, over Arrow tables read from the
-- SQLite store by ADBC (message, membership, account, community: see FLOOR_READS in
-- benchmarks/analytics.py). A "-- prepare:" block builds a table; a "-- metric:" block is a
-- query whose result is fetched as Arrow. The prepare blocks do what shequn's cache does at load
-- (local days from the group's zone, per member-day activity); they are timed apart.

-- prepare: msg
-- Local day = (UTC epoch + the zone's offset) // 86400. ICU's timezone() costs about 1.5 s per
-- million rows, so it runs once per zone and UTC hour of the history, not once per message.
CREATE TABLE msg AS
WITH hours AS (
  SELECT unnest(range(epoch_ms(CAST(min(sent_at) AS TIMESTAMP)) // 3600000,
                      epoch_ms(CAST(max(sent_at) AS TIMESTAMP)) // 3600000 + 1)) AS h
  FROM message
), offsets AS (
  SELECT z.tz, h.h,
         epoch_ms(timezone(z.tz, to_timestamp(h.h * 3600))) // 1000 - h.h * 3600 AS offset_s
  FROM (SELECT DISTINCT tz FROM community) z CROSS JOIN hours h
), m AS (
  SELECT m.id, m.community_id, NULLIF(m.account_id, -1) AS account_id, m.platform_msg_id,
         NULLIF(m.reply_to, '') AS reply_to, c.tz,
         epoch_ms(CAST(m.sent_at AS TIMESTAMP)) // 1000 AS epoch
  FROM message m JOIN community c ON c.id = m.community_id
)
SELECT m.id, m.community_id, m.account_id, m.platform_msg_id, m.reply_to,
       coalesce(a.is_bot <> 0, false) AS is_bot, m.epoch,
       (m.epoch + o.offset_s) // 86400 AS day
FROM m
JOIN offsets o ON o.tz = m.tz AND o.h = m.epoch // 3600
LEFT JOIN account a ON a.id = m.account_id;

-- prepare: md
CREATE TABLE md AS
SELECT community_id, account_id, day, any_value(is_bot) AS is_bot, count(*) AS messages,
       min(epoch) AS first_epoch, max(epoch) AS last_epoch, count(reply_to) AS replies_given
FROM msg WHERE account_id IS NOT NULL
GROUP BY community_id, account_id, day;

-- prepare: spell
CREATE TABLE spell AS
SELECT s.id, s.community_id, s.account_id, a.is_bot <> 0 AS is_bot,
       CAST(timezone(c.tz, to_timestamp(NULLIF(s.joined_epoch, -1))) AS DATE)
         - DATE '1970-01-01' AS join_day,
       CAST(timezone(c.tz, to_timestamp(NULLIF(s.left_epoch, -1))) AS DATE)
         - DATE '1970-01-01' AS left_day
FROM membership s
JOIN community c ON c.id = s.community_id
JOIN account a ON a.id = s.account_id;

-- metric: member_stats
WITH given AS (
  SELECT community_id, account_id, sum(messages) AS messages, count(*) AS active_days,
         min(first_epoch) AS first_seen, max(last_epoch) AS last_seen,
         sum(replies_given) AS replies_given
  FROM md GROUP BY community_id, account_id
), received AS (
  SELECT t.community_id, t.account_id, count(*) AS replies_received,
         count(DISTINCT r.account_id) AS repliers
  FROM msg r JOIN msg t ON t.community_id = r.community_id AND t.platform_msg_id = r.reply_to
  WHERE t.account_id IS NOT NULL
  GROUP BY t.community_id, t.account_id
)
SELECT g.*, coalesce(r.replies_received, 0) AS replies_received,
       coalesce(r.repliers, 0) AS repliers
FROM given g LEFT JOIN received r USING (community_id, account_id)
ORDER BY community_id, account_id;

-- metric: daily_active_ratio
WITH bounds AS (SELECT min(day) AS lo, max(day) AS hi FROM msg),
days AS (
  SELECT c.id AS community_id, unnest(range(b.lo, b.hi + 1)) AS day FROM community c, bounds b
),
-- members present at the end of day d: joined on or before d, not left by d (+1 / -1 steps)
steps AS (
  SELECT community_id, greatest(coalesce(join_day, lo), lo) AS day, 1 AS step
  FROM spell, bounds WHERE NOT is_bot
  UNION ALL
  SELECT community_id, greatest(left_day, lo), -1
  FROM spell, bounds WHERE NOT is_bot AND left_day IS NOT NULL
), step_day AS (
  SELECT community_id, day, sum(step) AS step FROM steps GROUP BY community_id, day
), present AS (
  SELECT community_id, day, sum(coalesce(step, 0)) OVER (
           PARTITION BY community_id ORDER BY day) AS members
  FROM days LEFT JOIN step_day USING (community_id, day)
), dau AS (
  SELECT community_id, day, count(*) AS dau FROM md WHERE NOT is_bot
  GROUP BY community_id, day
)
SELECT p.community_id, p.day, p.members, coalesce(dau.dau, 0) AS dau,
       CASE WHEN p.members > 0 THEN round(coalesce(dau.dau, 0) / p.members, 4) END AS ratio
FROM present p LEFT JOIN dau USING (community_id, day)
ORDER BY community_id, day;

-- metric: weekly_cohorts
WITH joined AS (
  SELECT DISTINCT community_id, account_id, (join_day + 3) // 7 AS cohort
  FROM spell WHERE join_day IS NOT NULL AND NOT is_bot
), active_week AS (
  SELECT DISTINCT community_id, account_id, (day + 3) // 7 AS week FROM md
), sizes AS (
  SELECT community_id, cohort, count(*) AS size FROM joined GROUP BY community_id, cohort
), kept AS (
  SELECT j.community_id, j.cohort, w.week - j.cohort AS n, count(*) AS retained
  FROM joined j JOIN active_week w
    ON w.community_id = j.community_id AND w.account_id = j.account_id
   AND w.week BETWEEN j.cohort AND j.cohort + 12
  GROUP BY j.community_id, j.cohort, n
), grid AS (
  SELECT s.community_id, s.cohort, s.size, n.n
  FROM sizes s CROSS JOIN range(0, 13) n(n)
  WHERE s.cohort + n.n <= (SELECT (max(day) + 3) // 7 FROM msg)
)
SELECT g.community_id, g.cohort, g.size, g.n, coalesce(k.retained, 0) AS retained,
       round(coalesce(k.retained, 0) / g.size, 4) AS ratio
FROM grid g LEFT JOIN kept k USING (community_id, cohort, n)
ORDER BY community_id, cohort, n;

-- metric: d1_w1_retention
WITH joined AS (
  SELECT community_id, account_id, join_day FROM spell
  WHERE join_day IS NOT NULL AND NOT is_bot
), d1 AS (
  SELECT j.community_id, count(*) AS joiners, count(md.day) AS spoke_next_day
  FROM joined j LEFT JOIN md ON md.community_id = j.community_id
   AND md.account_id = j.account_id AND md.day = j.join_day + 1
  GROUP BY j.community_id
), joined_week AS (
  SELECT DISTINCT community_id, account_id, (join_day + 3) // 7 AS week FROM joined
), active_week AS (
  SELECT DISTINCT community_id, account_id, (day + 3) // 7 AS week FROM md
), w1 AS (
  SELECT j.community_id, count(*) AS week_joiners, count(w.week) AS spoke_next_week
  FROM joined_week j LEFT JOIN active_week w ON w.community_id = j.community_id
   AND w.account_id = j.account_id AND w.week = j.week + 1
  GROUP BY j.community_id
)
SELECT c.id AS community_id, coalesce(d1.joiners, 0) AS joiners,
       round(d1.spoke_next_day / d1.joiners, 4) AS d1_retention,
       coalesce(w1.week_joiners, 0) AS week_joiners,
       round(w1.spoke_next_week / w1.week_joiners, 4) AS w1_retention
FROM community c LEFT JOIN d1 ON d1.community_id = c.id LEFT JOIN w1 ON w1.community_id = c.id
ORDER BY community_id;

-- metric: top20_share
WITH per_group AS (
  SELECT c.id AS community_id, coalesce(sum(md.messages), 0) AS messages
  FROM community c LEFT JOIN md ON md.community_id = c.id AND NOT md.is_bot
  GROUP BY c.id
), ranked AS (
  SELECT messages, row_number() OVER (ORDER BY messages DESC, community_id) AS rk,
         count(*) OVER () AS groups
  FROM per_group
)
SELECT count(*) FILTER (WHERE rk <= ceil(0.2 * groups)) AS top_groups,
       round(sum(messages) FILTER (WHERE rk <= ceil(0.2 * groups))
             / nullif(sum(messages), 0), 4) AS top20_share
FROM ranked;
