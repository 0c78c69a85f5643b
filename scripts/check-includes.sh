#!/bin/sh
# check-includes.sh — dependencies point down only:
#   cli → api → project, approval → trigger, topic, route → queue, fn, sched → server
#   → engine → integ, asl, vtl → path → store, http → base.
#   (Services such as queue/ and fn/ run on the server's engine thread and plug into it
#   through integ.h; trigger/ joins queues to functions; project/ declares them all from
#   the project file; api/ speaks their protocols.)
#   A lower module never includes a higher one, nor one of its own rank.
set -eu
cd "$(dirname "$0")/.."
rank() {
    case "$1" in
    base) echo 0 ;; jsonata) echo 1 ;; store) echo 1 ;; http) echo 1 ;; path) echo 2 ;;
    asl) echo 3 ;; integ) echo 3 ;; vtl) echo 3 ;; engine) echo 4 ;; server) echo 5 ;;
    queue) echo 6 ;; fn) echo 6 ;; sched) echo 6 ;; trigger) echo 7 ;; topic) echo 7 ;; route) echo 7 ;;
    project) echo 8 ;; approval) echo 8 ;; api) echo 9 ;; cli) echo 10 ;; *) echo 11 ;;
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
