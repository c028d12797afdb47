if [[ -o interactive ]] && (( $+functions[compdef] )); then
  eval "$(@EXE@ completions zsh)"
fi
