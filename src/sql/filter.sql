-- the shared session filter over alias c: who (filter_who.sql: $1..$8 patterns, $12 pids) and state ($9 states, $10 state age, $11 query age)
/*FILTER_WHO*/
    AND (cardinality($9::text[]) = 0 OR c.state = ANY ($9))
    AND ($10::float8 IS NULL OR c.state_change < now() - make_interval(secs => $10))
    AND ($11::float8 IS NULL OR (c.state = 'active' AND c.query_start < now() - make_interval(secs => $11)))
