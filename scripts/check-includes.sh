#!/bin/sh
# check-includes.sh — dependencies point down only:
#   cli → api → queue → server → engine → integ, asl → path → store, http → base.
#   (Services such as queue/ run on the server's engine thread and plug into it through
#   integ.h; api/ speaks their protocols.)
#   A lower module never includes a higher one, nor one of its own rank.
set -eu
cd "$(dirname "$0")/.."
rank() {
    case "$1" in
    base) echo 0 ;; store) echo 1 ;; http) echo 1 ;; path) echo 2 ;;
    asl) echo 3 ;; integ) echo 3 ;; engine) echo 4 ;; server) echo 5 ;;
    queue) echo 6 ;; api) echo 7 ;; cli) echo 8 ;; *) echo 9 ;;
    esac
}
bad=0
for f in $(git ls-files 'src/*.c' 'src/*.h'); do
    mod=$(echo "$f" | cut -d/ -f2)
    r=$(rank "$mod")
    for inc in $(grep -o '#include "[a-z]*/' "$f" | sed 's/#include "//; s/\///'); do
        ri=$(rank "$inc")
        if [ "$ri" -gt "$r" ] || { [ "$ri" -eq "$r" ] && [ "$inc" != "$mod" ]; }; then
            echo "$f: $mod must not include $inc/" >&2
            bad=1
        fi
    done
done
exit $bad
