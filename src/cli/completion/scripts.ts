/**
 * The shell scripts `kubectl-profefe completion SHELL` prints. Each is a thin adapter: it sends
 * the words of the command line to `kubectl-profefe __complete` and reads back cobra's protocol
 * (protocol.ts), the same answer kubectl gets from kubectl_complete-profefe. So bash, zsh, fish
 * and `kubectl profefe <TAB>` complete alike, and the scripts never change when commands do.
 */

/** The shells `completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The program the scripts complete (and call): the plugin's executable name on PATH. */
const PROGRAM = 'kubectl-profefe';

// bash splits words at `=` and `:` (COMP_WORDBREAKS): they are glued back together before they
// are sent, and bash replaces only the part after the last break, so a candidate loses what is
// before it (`ns:svc` becomes `svc`); a flag's value after `--flag=` comes alone, as cobra gives it.
const BASH = `# bash completion for ${PROGRAM}
# Load it in this shell:       source <(${PROGRAM} completion bash)
# Load it in every new shell:  echo 'source <(${PROGRAM} completion bash)' >> ~/.bashrc
_kubectl_profefe_complete() {
    local i word glue=0
    local -a words=()
    for ((i = 0; i <= COMP_CWORD; i++)); do
        word=\${COMP_WORDS[i]}
        if [[ ($word == "=" || $word == ":") && \${#words[@]} -gt 0 ]]; then
            words[\${#words[@]}-1]+="$word"
            glue=1
        elif ((glue)); then
            words[\${#words[@]}-1]+="$word"
            glue=0
        else
            words+=("$word")
        fi
    done
    local cur=\${COMP_WORDS[COMP_CWORD]}
    [[ $cur == "=" || $cur == ":" ]] && cur=""
    # what bash keeps of the word: everything up to its last break character
    local whole=\${words[\${#words[@]}-1]}
    local broken=\${whole%"\${whole##*[=:]}"}
    local out
    out=$("\${words[0]}" __complete "\${words[@]:1}" 2>/dev/null) || return 0
    local -a lines=()
    local line
    while IFS= read -r line; do lines+=("$line"); done <<<"$out"
    local directive=0 last=\${lines[\${#lines[@]}-1]}
    if [[ $last == :* ]]; then
        directive=\${last#:}
        unset 'lines[\${#lines[@]}-1]'
    fi
    [[ $directive =~ ^[0-9]+$ ]] || directive=0
    ((directive & 1)) && return 0
    COMPREPLY=()
    for line in "\${lines[@]}"; do
        [[ -n $line ]] || continue
        line=\${line%%$'\\t'*}
        [[ -n $broken && $line == "$broken"* ]] && line=\${line#"$broken"}
        COMPREPLY+=("$line")
    done
    ((directive & 2)) && compopt -o nospace 2>/dev/null
    ((directive & 32)) && compopt -o nosort 2>/dev/null
    if ((\${#COMPREPLY[@]} == 0)); then
        if ((directive & 16)); then
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        elif (( (directive & 4) == 0 )); then
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
    fi
    return 0
}
complete -F _kubectl_profefe_complete ${PROGRAM}
`;

// zsh keeps \`--flag=value\` as one word: the flag part goes back in front of each value (-P).
const ZSH = `#compdef ${PROGRAM}
# zsh completion for ${PROGRAM}
# Load it in this shell:       source <(${PROGRAM} completion zsh)
# Load it in every new shell:  ${PROGRAM} completion zsh > "\${fpath[1]}/_${PROGRAM}"
#   (any directory of $fpath; compinit must run in ~/.zshrc)
_kubectl_profefe() {
    local -a args lines described
    local out directive line value desc flagPrefix=""
    args=("\${(@)words[2,CURRENT-1]}" "\${PREFIX}")
    out=$("\${words[1]}" __complete "\${args[@]}" 2>/dev/null) || return 1
    lines=("\${(@f)out}")
    directive=0
    if [[ \${lines[-1]} == :* ]]; then
        directive=\${lines[-1]#:}
        lines=("\${(@)lines[1,-2]}")
    fi
    [[ $directive == <-> ]] || directive=0
    (( directive & 1 )) && return 1
    [[ $PREFIX == -*=* ]] && flagPrefix="\${PREFIX%%=*}="
    for line in "\${lines[@]}"; do
        [[ -z $line ]] && continue
        value=\${line%%$'\\t'*}
        desc=""
        [[ $line == *$'\\t'* ]] && desc=\${line#*$'\\t'}
        described+=("\${value//:/\\\\:}\${desc:+:$desc}")
    done
    local -a opts
    (( directive & 2 )) && opts+=(-S '')
    (( directive & 32 )) && opts+=(-V values)
    [[ -n $flagPrefix ]] && opts+=(-P "$flagPrefix")
    if (( \${#described} > 0 )); then
        _describe -t values 'values' described "\${opts[@]}"
    elif (( directive & 16 )); then
        _files -/
    elif (( (directive & 4) == 0 )); then
        _files
    else
        return 1
    fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
    _kubectl_profefe "$@"
else
    compdef _kubectl_profefe ${PROGRAM}
fi
`;

const FISH = `# fish completion for ${PROGRAM}
# Load it in this shell:       ${PROGRAM} completion fish | source
# Load it in every new shell:  ${PROGRAM} completion fish > ~/.config/fish/completions/${PROGRAM}.fish
function __kubectl_profefe_complete
    set -l args (commandline -opc)
    set -l cur (commandline -ct)
    set -l prog $args[1]
    set -e args[1]
    set -l out (command $prog __complete $args $cur 2>/dev/null); or return
    set -l directive 0
    if string match -qr '^:[0-9]+$' -- $out[-1]
        set directive (string sub -s 2 -- $out[-1])
        set -e out[-1]
    end
    if test (math "$directive % 2") -eq 1
        return
    end
    set -l flagPrefix ""
    if string match -qr -- '^-[^=]*=' $cur
        set flagPrefix (string replace -r -- '=.*' '=' $cur)
    end
    set -l n 0
    for line in $out
        if test -n "$line"
            printf '%s%s\\n' $flagPrefix $line
            set n (math $n + 1)
        end
    end
    if test $n -eq 0
        if test (math "bitand($directive, 16)") -ne 0
            __fish_complete_directories $cur
        else if test (math "bitand($directive, 4)") -eq 0
            __fish_complete_path $cur
        end
    end
end
complete -c ${PROGRAM} -f -a '(__kubectl_profefe_complete)'
`;

/** The completion script for `shell`. */
export function completionScript(shell: Shell): string {
  switch (shell) {
    case 'bash':
      return BASH;
    case 'zsh':
      return ZSH;
    case 'fish':
      return FISH;
  }
}
