# Sourced by capture.zsh in the interactive zsh it drives: compsys, and a compadd that also
# prints what it adds (with its -P prefix) between markers, so the test can read the matches.
PS1='> '
autoload -Uz compinit && compinit -u -D
compadd () {
  # Calls that only ask for matches (-O, -A, -D) are not additions.
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  local -a __hits opts
  builtin compadd -A __hits "$@"
  zparseopts -E -a opts P:
  local p=${opts[2]}
  print -r -- "<<HITS>> ${(j: :)${(@)__hits/#/$p}} <<END>>"
  builtin compadd "$@"
}
