# bash completion for pgvise (installed as share/bash-completion/completions/pgvise)
_pgvise() {
  local cur prev cmd
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands="review explain advise rewrite maintain rules"
  local common="--db --format --fail-on --config --rules -o --output -v --verbose --statement-timeout --lock-timeout -h --help"
  cmd=""
  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case " $commands " in *" $w "*) cmd=$w; break ;; esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
    --format)
      local formats
      case "$cmd" in
        review|explain) formats="text json sarif gitlab markdown html" ;;
        advise|maintain) formats="text json markdown html sql" ;;
        rewrite) formats="sql text json markdown html" ;;
        rules) formats="text json markdown" ;;
      esac
      COMPREPLY=($(compgen -W "$formats" -- "$cur")); return ;;
    --fail-on) COMPREPLY=($(compgen -W "error warning info never" -- "$cur")); return ;;
    --config|-o|--output|--sql|-w|--revert-file)
      COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --rules) COMPREPLY=($(compgen -d -- "$cur")); return ;;
  esac
  local extra=""
  case "$cmd" in
    explain) extra="--sql --analyze --no-buffers" ;;
    advise) extra="-w --workload --from --budget --max-indexes --generic-plans --time-limit --no-local-search --min-gain --top --min-calls --no-drops --write-cost --write-source --revert-file --script-lock-timeout --verify --verify-top -q --quiet --no-partitions --partition-min-size --no-views --mv-max-staleness --no-statistics --no-rewrites --no-patterns --jobs --replica" ;;
    rewrite) extra="--disable --verify --verify-runs --no-pretty --list-passes" ;;
    maintain) extra="--only --exclude --tables --exact --apply --retries --item-lock-timeout --item-timeout --cleanup-lock-timeout --memory --cpus --storage --workload --observe --baseline --save-baseline" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$common $extra" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _pgvise pgvise
