#!/bin/sh
# The image's entrypoint. `docker run IMAGE [ARGS...]` runs:
#   (no ARGS)                         mock-puresms serve
#   --port 9000 ...  (a flag first)   mock-puresms serve --port 9000 ...
#   --version | --help | -h           mock-puresms --version (the command's own)
#   scenarios validate /s/x.yaml      mock-puresms scenarios validate /s/x.yaml
#     (any subcommand: serve, scenarios, config, openapi, health)
#   sh -c '...'                       that command, when it is one of the image
set -e
case "${1-}" in
    "") set -- mock-puresms serve ;;
    --version | --help | -h) set -- mock-puresms "$@" ;;
    -*) set -- mock-puresms serve "$@" ;;
    serve | scenarios | config | openapi | health) set -- mock-puresms "$@" ;;
    # Neither a subcommand nor a program: mock-puresms says which subcommands exist.
    *) command -v "$1" >/dev/null 2>&1 || set -- mock-puresms "$@" ;;
esac
exec "$@"
