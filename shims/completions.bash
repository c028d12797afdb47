case $- in
  *i*) eval "$(@EXE@ completions bash)" ;;
esac
