-- the shared session filter over alias c: who (filter_who.sql: $db..$exclude_client patterns, $pids pids) and state ($states states, $state_older_than state age, $running_longer_than query age)
/*FILTER_WHO*/
    AND (cardinality($states::text[]) = 0 OR c.state = ANY ($states))
    AND ($state_older_than::float8 IS NULL OR c.state_change < now() - make_interval(secs => $state_older_than))
    AND ($running_longer_than::float8 IS NULL OR (c.state = 'active' AND c.query_start < now() - make_interval(secs => $running_longer_than)))
