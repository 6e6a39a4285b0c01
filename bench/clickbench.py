"""A ClickBench-style subset, mapped onto the session table, in DuckDB and ClickHouse SQL.

ClickBench (benchmark.clickhouse.com) runs 43 queries over a 100M-row web-analytics table `hits`. These
keep each query's shape and swap in session columns, so the per-row rates printed here can be set beside
the published results for DuckDB and ClickHouse on 2-vCPU machines (divide their hits rows, 99,997,497,
by their seconds). Each query scans the whole table, as ClickBench's do. Distinct users are counted by
the stores' `user_key` (DuckDB's integer, ClickHouse's SipHash128 of the id), as ClickBench counts its
integer UserID.
"""

from __future__ import annotations

# (ClickBench query, what it does there, DuckDB SQL, ClickHouse SQL)
QUERIES: list[tuple[str, str, str, str]] = [
    ("Q2", "count with a filter",
     "SELECT count(*) FROM sessions WHERE rage_gesture_count <> 0",
     "SELECT count() FROM sessions WHERE rage_gesture_count <> 0"),
    ("Q8", "small group-by, filtered, by count",
     "SELECT platform, count(*) AS c FROM sessions WHERE total_gesture <> 0 GROUP BY platform ORDER BY c DESC",
     "SELECT platform, count() AS c FROM sessions WHERE total_gesture <> 0 GROUP BY platform ORDER BY c DESC"),
    ("Q9", "group-by with count distinct users, top 10",
     "SELECT device_country, count(DISTINCT user_key) AS u FROM sessions GROUP BY device_country ORDER BY u DESC LIMIT 10",
     "SELECT device_country, uniqExact(user_key) AS u FROM sessions GROUP BY device_country ORDER BY u DESC LIMIT 10"),
    ("Q10", "group-by with sum, count, avg, count distinct",
     "SELECT device_country, sum(total_gesture), count(*) AS c, avg(duration_sec), count(DISTINCT user_key) "
     "FROM sessions GROUP BY device_country ORDER BY c DESC LIMIT 10",
     "SELECT device_country, sum(total_gesture), count() AS c, avg(duration_sec), uniqExact(user_key) "
     "FROM sessions GROUP BY device_country ORDER BY c DESC LIMIT 10"),
    ("Q11", "string group-by with count distinct, non-empty",
     "SELECT model, count(DISTINCT user_key) AS u FROM sessions WHERE model <> '' GROUP BY model ORDER BY u DESC LIMIT 10",
     "SELECT model, uniqExact(user_key) AS u FROM sessions WHERE model <> '' GROUP BY model ORDER BY u DESC LIMIT 10"),
    ("Q24", "SELECT * with a LIKE filter, ordered, top 10",
     "SELECT * FROM sessions WHERE referer LIKE '%google%' ORDER BY uploaded_at LIMIT 10",
     "SELECT * FROM sessions WHERE referer LIKE '%google%' ORDER BY uploaded_at LIMIT 10"),
    ("Q30", "many sums of expressions",
     "SELECT " + ", ".join(f"sum(duration_sec + {i})" for i in range(30)) + " FROM sessions",
     "SELECT " + ", ".join(f"sum(duration_sec + {i})" for i in range(30)) + " FROM sessions"),
    ("Q36", "group-by over a date range with filters, top 10",
     "SELECT first_screen_name, count(*) AS c FROM sessions WHERE uploaded_at >= TIMESTAMP '2026-10-01' "
     "AND uploaded_at <= TIMESTAMP '2026-10-31' AND NOT is_crashed GROUP BY first_screen_name ORDER BY c DESC LIMIT 10",
     "SELECT first_screen_name, count() AS c FROM sessions WHERE uploaded_at >= toDateTime('2026-10-01 00:00:00', 'UTC') "
     "AND uploaded_at <= toDateTime('2026-10-31 00:00:00', 'UTC') AND NOT is_crashed "
     "GROUP BY first_screen_name ORDER BY c DESC LIMIT 10"),
    ("Q42", "per-minute counts in a range, offset 1000",
     "SELECT date_trunc('minute', uploaded_at) AS m, count(*) FROM sessions WHERE uploaded_at >= TIMESTAMP '2026-10-14' "
     "AND uploaded_at <= TIMESTAMP '2026-10-15' GROUP BY m ORDER BY m LIMIT 10 OFFSET 1000",
     "SELECT toStartOfMinute(uploaded_at) AS m, count() FROM sessions WHERE uploaded_at >= toDateTime('2026-10-14 00:00:00', 'UTC') "
     "AND uploaded_at <= toDateTime('2026-10-15 00:00:00', 'UTC') GROUP BY m ORDER BY m LIMIT 10 OFFSET 1000"),
]
