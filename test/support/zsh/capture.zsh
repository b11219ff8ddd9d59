# zsh capture.zsh SCRIPT LINE: types LINE and a TAB into an interactive zsh (zpty) that has
# sourced SCRIPT, and prints the matches completion added, space-separated. Waits for the
# matches' end marker, not for a time: LINE must complete to something.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "source ${0:A:h}/setup.zsh; source ${(q)1}"
zpty -n -w z "$2"$'\t'
local out line
while zpty -r z line; do
  out+=$line
  [[ $out == *'<<END>>'* ]] && break
done
zpty -d z
print -r -- ${${out##*<<HITS>> }%% <<END>>*}
