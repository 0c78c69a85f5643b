#!/bin/sh
# run-demo.sh — the end of `make run`, after the build: the case study's functions get their
# npm packages (once), then `baton serve` runs examples/verification/baton.yaml in the
# foreground with a fresh data folder, so that each run starts like the first: the schedule
# fires at once, the approval mail lands in the outbox. Ctrl-C stops it.
#   scripts/run-demo.sh [BUILD_DIR] [PROJECT_FILE]
# PROJECT_FILE is a file of examples/verification (baton.yaml, the first variant, or
# workshop.yaml, the second); BATON_DEMO_DATA overrides the data folder.
set -eu

BUILD=${1:-build}
EXAMPLE=examples/verification
FILE=${2:-baton.yaml}
DATA=${BATON_DEMO_DATA:-$BUILD/demo-data}
URL=http://127.0.0.1:8083 # the example's public_url and API_ENDPOINT

if [ ! -f "$EXAMPLE/node_modules/@aws-sdk/client-sfn/package.json" ] ||
    [ ! -f "$EXAMPLE/node_modules/@aws-sdk/client-sns/package.json" ]; then
    echo "make run: installing the functions' npm packages (npm install --prefix $EXAMPLE)"
    if ! timeout 300 npm install --prefix "$EXAMPLE" --no-audit --no-fund --loglevel=error; then
        echo "make run: npm could not install @aws-sdk/client-sfn and @aws-sdk/client-sns" \
            "(is the npm registry reachable?)." >&2
        echo "make run: the server starts anyway, but the case study's functions fail until" \
            "'npm install --prefix $EXAMPLE' succeeds." >&2
    fi
fi

rm -rf "$DATA"
cat <<MSG

The verification case study ($EXAMPLE/$FILE), data in $DATA:
  API endpoint  $URL   (aws --endpoint-url $URL stepfunctions list-executions ...)
  Outbox        $URL/outbox   (the approval mail: open it, follow the link, confirm)
  Result        ./$BUILD/baton describe <execution ARN>
The first execution starts now, then one every 10 minutes. Ctrl-C stops the server.

MSG
exec "./$BUILD/baton" serve --config "$EXAMPLE/$FILE" --data "$DATA"
