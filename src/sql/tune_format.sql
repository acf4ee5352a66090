-- build every ALTER statement of a plan on the server, in one statement: identifiers quoted with %I, values with %L
-- $templates[i] takes the $counts[i] arguments that follow the earlier templates' ones in $args.
SELECT format(t.template, VARIADIC ($args::text[])[t.first : t.first + t.n - 1]) AS sql
  FROM (
    SELECT u.template, u.n, u.ord,
           1 + coalesce(sum(u.n) OVER (ORDER BY u.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::int AS first
      FROM unnest($templates::text[], $counts::int4[]) WITH ORDINALITY AS u(template, n, ord)
  ) t
 ORDER BY t.ord
