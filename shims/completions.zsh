if [[ -o interactive ]]; then
  # Completion needs zsh's completion system: load it when .zshrc has not (yet); loading it
  # again later in .zshrc is harmless.
  if (( ! $+functions[compdef] )); then
    autoload -Uz compinit && compinit -i
  fi
  eval "$(@EXE@ completions zsh)"
fi
