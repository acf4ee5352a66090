/* The libpq floor of benches/psql_compare.rs: connect, send one SQL text, read every value, exit.
 *
 * Usage: floor SQL [CONNINFO]. Without CONNINFO, libpq takes everything from the PG* environment
 * (PGHOST, PGPORT, PGUSER, PGDATABASE, ...), as pgconn does. The SQL goes out with PQexec: one round
 * trip after connecting. Every value is read (lengths summed, first bytes added up) so that the client's
 * side of the work is done too; a one-line summary goes to stdout. Exit status 0, or 1 on any failure.
 */
#include <stdio.h>
#include <libpq-fe.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: floor SQL [CONNINFO]\n");
        return 1;
    }
    PGconn *conn = PQconnectdb(argc == 3 ? argv[2] : "");
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "floor: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    PGresult *res = PQexec(conn, argv[1]);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "floor: %s", PQresultErrorMessage(res));
    int rows = PQntuples(res), cols = PQnfields(res);
    long bytes = 0;
    unsigned long checksum = 0;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            bytes += PQgetlength(res, r, c);
            checksum += (unsigned char) PQgetvalue(res, r, c)[0];
        }
    printf("%d rows, %d columns, %ld bytes, checksum %lu\n", rows, cols, bytes, checksum);
    PQclear(res);
    PQfinish(conn);
    return ok ? 0 : 1;
}
