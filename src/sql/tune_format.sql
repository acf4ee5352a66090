-- build one ALTER statement on the server: identifiers quoted with %I, values with %L
SELECT format($1::text, VARIADIC $2::text[]) AS sql
