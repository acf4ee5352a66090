/* The libpq floor of benches/psql_compare.rs: connect, send one SQL text, read every value, exit.
 *
 * Usage: floor SQL [CONNINFO ...]. Without CONNINFO, libpq takes everything from the PG* environment
 * (PGHOST, PGPORT, PGUSER, PGDATABASE, ...), as pgconn does. The SQL goes out with PQexec: one round
 * trip after connecting. Every value is read (lengths summed, first bytes added up) so that the client's
 * side of the work is done too; a one-line summary goes to stdout. Exit status 0, or 1 on any failure.
 *
 * With several CONNINFOs, each gets a thread of its own, all started at once: the floor of many targets
 * (what a client that connects to every target at the same moment cannot go below). The summary sums the
 * targets.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <libpq-fe.h>

struct target {
    const char *sql, *conninfo;
    int ok, rows, cols;
    long bytes;
    unsigned long checksum;
};

static void *run(void *arg)
{
    struct target *t = arg;
    PGconn *conn = PQconnectdb(t->conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "floor: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PGresult *res = PQexec(conn, t->sql);
    t->ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!t->ok)
        fprintf(stderr, "floor: %s", PQresultErrorMessage(res));
    t->rows = PQntuples(res), t->cols = PQnfields(res);
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++) {
            t->bytes += PQgetlength(res, r, c);
            t->checksum += (unsigned char) PQgetvalue(res, r, c)[0];
        }
    PQclear(res);
    PQfinish(conn);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: floor SQL [CONNINFO ...]\n");
        return 1;
    }
    int n = argc > 2 ? argc - 2 : 1;
    struct target *t = calloc(n, sizeof *t);
    pthread_t *threads = calloc(n, sizeof *threads);
    if (!t || !threads)
        return 1;
    for (int i = 0; i < n; i++)
        t[i].sql = argv[1], t[i].conninfo = argc > 2 ? argv[2 + i] : "";
    if (n == 1)
        run(&t[0]);
    else {
        for (int i = 0; i < n; i++)
            if (pthread_create(&threads[i], NULL, run, &t[i]) != 0)
                return 1;
        for (int i = 0; i < n; i++)
            pthread_join(threads[i], NULL);
    }
    int ok = 1, rows = 0, cols = 0;
    long bytes = 0;
    unsigned long checksum = 0;
    for (int i = 0; i < n; i++)
        ok &= t[i].ok, rows += t[i].rows, cols = t[i].cols, bytes += t[i].bytes, checksum += t[i].checksum;
    printf("%d rows, %d columns, %ld bytes, checksum %lu\n", rows, cols, bytes, checksum);
    return ok ? 0 : 1;
}
