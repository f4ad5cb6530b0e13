# Tollgate's read-only host checks for the KISA Unix items Lynis does not cover (POSIX sh).
# Run locally after Lynis, or on an instance through SSM (pipeline/scanners/lynis.py). Nothing
# here writes, starts, stops or installs anything: it reads files, /proc and `stat`, and runs
# `find` and `sshd -T` (which only prints the effective configuration).
# Output: one line per check, `tollgate_check[]=<check>|<pass|fail|na|manual>|<detail>|`;
# the check ids are the `native` ids of normalizers/tables/kisa_unix_2026.yml. The detail
# names users, files and settings, never a password hash or a file's contents.
export LC_ALL=C
PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin"
procs=$(cat /proc/[0-9]*/comm 2>/dev/null | sort -u)

r() { printf 'tollgate_check[]=%s|%s|%s|\n' "$1" "$2" "$(printf '%s' "$3" | tr '|\n' '/ ' | cut -c1-300)"; }
mode_of() { stat -c '%a' "$1" 2>/dev/null || stat -f '%Lp' "$1" 2>/dev/null; }
owner_of() { stat -c '%U' "$1" 2>/dev/null || stat -f '%Su' "$1" 2>/dev/null; }
# true when the file's mode has any bit of the octal mask
has_bits() { m=$(mode_of "$1"); [ -n "$m" ] && [ $(( 0$m & $2 )) -ne 0 ]; }
running() { for n in "$@"; do printf '%s\n' "$procs" | grep -qx "$n" && return 0; done; return 1; }
installed() { for n in "$@"; do command -v "$n" >/dev/null 2>&1 && return 0; done; return 1; }
# listening tcp|udp PORT: something is bound to the port (LISTEN for tcp, unconnected for udp)
listening() {
  hex=$(printf ':%04X' "$2")
  if [ "$1" = tcp ]; then files="/proc/net/tcp /proc/net/tcp6"; st=0A; else files="/proc/net/udp /proc/net/udp6"; st=07; fi
  awk -v h="$hex" -v st="$st" 'FNR > 1 && substr($2, length($2) - 4) == h && $4 == st { f = 1 } END { exit !f }' \
    $files 2>/dev/null
}
# perm CHECK PATH MASK OWNER...: pass when PATH belongs to one of OWNER and has none of MASK's bits
perm() {
  c=$1 p=$2 mask=$3; shift 3
  [ -e "$p" ] || { r "$c" na "$p absent"; return; }
  o=$(owner_of "$p") m=$(mode_of "$p")
  case " $* " in *" $o "*) ;; *) r "$c" fail "$p owned by $o (expected $*)"; return ;; esac
  if has_bits "$p" "$mask"; then r "$c" fail "$p mode $m is too open"; else r "$c" pass "$p $o $m"; fi
}
# the first value of an option in config files (sshd and most daemons: the first one wins)
conf_value() { key=$1; shift; awk -v k="$key" 'tolower($1) == tolower(k) && $1 !~ /^#/ { print $2; exit }' "$@" 2>/dev/null; }
login_defs() { conf_value "$1" /etc/login.defs; }
human_users() { awk -F: '$3 >= 1000 && $3 < 60000 { print $1 ":" $6 }' /etc/passwd; }
login_shell() { case $1 in */nologin | */false | "" | */sync | */shutdown | */halt) return 1 ;; esac; return 0; }
xfind() { find / -xdev \( -path /proc -o -path /sys -o -path /dev \) -prune -o "$@" -print 2>/dev/null; }

# --- Account management ---------------------------------------------------------------------
sshd_opt() {
  v=$(sshd -T 2>/dev/null | awk -v k="$(printf '%s' "$1" | tr 'A-Z' 'a-z')" '$1 == k { print $2; exit }')
  [ -n "$v" ] || v=$(conf_value "$1" /etc/ssh/sshd_config.d/*.conf /etc/ssh/sshd_config)
  printf '%s' "$v"
}
if [ -f /etc/ssh/sshd_config ] || installed sshd; then
  v=$(sshd_opt PermitRootLogin)
  case $v in no) r root-remote-login pass "sshd PermitRootLogin no" ;;
    *) r root-remote-login fail "sshd PermitRootLogin ${v:-not set (OpenSSH default prohibit-password)}" ;; esac
else
  r root-remote-login na "no SSH server"
fi

pam_files=$(ls /etc/pam.d/common-password /etc/pam.d/system-auth /etc/pam.d/password-auth /etc/pam.d/passwd 2>/dev/null)
if [ -n "$pam_files" ] && grep -Eqs '^[^#]*(pam_pwquality|pam_cracklib|pam_passwdqc)' $pam_files; then
  minlen=$(grep -Ehos '^[^#]*minlen *= *[0-9]+' $pam_files /etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf \
    | sed 's/.*= *//' | head -n 1)
  if [ "${minlen:-0}" -ge 8 ]; then r password-quality pass "strength module, minlen ${minlen}"
  else r password-quality fail "strength module without minlen of 8 or more (minlen ${minlen:-unset})"; fi
else
  r password-quality fail "no password strength module (pam_pwquality, pam_cracklib, pam_passwdqc) in PAM"
fi
v=$(login_defs PASS_MAX_DAYS)
if [ -n "$v" ] && [ "$v" -le 90 ] 2>/dev/null; then r password-max-age pass "PASS_MAX_DAYS $v"
else r password-max-age fail "PASS_MAX_DAYS ${v:-unset} (90 days or less expected)"; fi
v=$(login_defs PASS_MIN_DAYS)
if [ -n "$v" ] && [ "$v" -ge 1 ] 2>/dev/null; then r password-min-age pass "PASS_MIN_DAYS $v"
else r password-min-age fail "PASS_MIN_DAYS ${v:-unset} (1 day or more expected)"; fi

deny=$(grep -Ehos '^[^#]*(pam_faillock|pam_tally2?)\.so.*deny=[0-9]+' /etc/pam.d/* 2>/dev/null | sed 's/.*deny=\([0-9]*\).*/\1/' | head -n 1)
[ -n "$deny" ] || deny=$(conf_value deny /etc/security/faillock.conf | tr -dc 0-9)
[ -n "$deny" ] || deny=$(grep -Ehs '^[[:space:]]*deny[[:space:]]*=' /etc/security/faillock.conf | tr -dc 0-9)
if [ -n "$deny" ] && [ "$deny" -ge 1 ] && [ "$deny" -le 10 ]; then r account-lockout pass "lockout after $deny failures"
else r account-lockout fail "no account lockout (pam_faillock or pam_tally2 with deny of 10 or less)"; fi

bad=$(awk -F: '$2 != "x" && $2 != "*" && $2 !~ /^!/ { print $1 }' /etc/passwd | tr '\n' ' ')
if [ -n "$bad" ]; then r shadow-passwords fail "password field in /etc/passwd not shadowed for: $bad"
elif [ -f /etc/shadow ]; then r shadow-passwords pass "/etc/passwd holds no hashes; /etc/shadow present"
else r shadow-passwords fail "no /etc/shadow"; fi

bad=$(awk -F: '$3 == 0 && $1 != "root" { print $1 }' /etc/passwd | tr '\n' ' ')
if [ -n "$bad" ]; then r uid-zero fail "UID 0 besides root: $bad"; else r uid-zero pass "only root has UID 0"; fi

if [ -f /etc/pam.d/su ]; then
  if grep -Eqs '^[^#]*auth[[:space:]]+(required|requisite)[[:space:]]+pam_wheel\.so' /etc/pam.d/su; then
    r su-restricted pass "pam_wheel required in /etc/pam.d/su"
  else r su-restricted fail "/etc/pam.d/su does not require pam_wheel: any user may try su"; fi
else r su-restricted na "no /etc/pam.d/su"; fi

bad=$(awk -F: '$1 ~ /^(lp|uucp|nuucp|games|gopher|news|ftp|guest)$/ && $7 !~ /(nologin|false)$/ { print $1 }' /etc/passwd | tr '\n' ' ')
if [ -n "$bad" ]; then r default-accounts fail "default accounts that can log in: $bad"
else r default-accounts pass "no default account (lp, uucp, games, news, guest...) has a login shell"; fi

bad=$(awk -F: '$3 == 0 && $4 != "" && $4 != "root" { print $4 }' /etc/group)
if [ -n "$bad" ]; then r root-group-members fail "root group members: $bad"; else r root-group-members pass "root group has no extra members"; fi

primary=$(awk -F: '{ print $4 }' /etc/passwd | sort -u)
bad=$(awk -F: '$3 >= 1000 && $3 < 60000 && $4 == "" { print $3 ":" $1 }' /etc/group | while IFS=: read -r gid name; do
  printf '%s\n' "$primary" | grep -qx "$gid" || printf '%s ' "$name"; done)
if [ -n "$bad" ]; then r empty-groups fail "groups without accounts: $bad"; else r empty-groups pass "every user group has an account"; fi

bad=$(awk -F: '{ print $3 }' /etc/passwd | sort | uniq -d | tr '\n' ' ')
if [ -n "$bad" ]; then r duplicate-uid fail "UIDs shared by several accounts: $bad"; else r duplicate-uid pass "UIDs are unique"; fi

bad=$(awk -F: '$3 > 0 && $3 < 1000 && $1 !~ /^(sync|shutdown|halt)$/ && $7 !~ /(nologin|false)$/ && $7 != "" { print $1 }' /etc/passwd | tr '\n' ' ')
if [ -n "$bad" ]; then r system-account-shells fail "system accounts with a login shell: $bad"
else r system-account-shells pass "system accounts use nologin or false"; fi

t=$(grep -Ehos '^[^#]*TMOUT=[0-9]+' /etc/profile /etc/profile.d/*.sh /etc/bash.bashrc /etc/bashrc 2>/dev/null | sed 's/.*TMOUT=//' | head -n 1)
if [ -n "$t" ] && [ "$t" -ge 1 ] && [ "$t" -le 600 ]; then r session-timeout pass "TMOUT=$t"
else r session-timeout fail "no shell idle timeout of 600 s or less (TMOUT ${t:-unset})"; fi

weak=$(awk -F: '$2 !~ /^(\$(5|6|y|7|2b|2y|gy)\$|[!*]|$)/ { print $1 }' /etc/shadow 2>/dev/null | tr '\n' ' ')
method=$(login_defs ENCRYPT_METHOD)
if [ ! -r /etc/shadow ]; then r password-hash-algorithm manual "/etc/shadow not readable (run as root)"
elif [ -n "$weak" ]; then r password-hash-algorithm fail "weak or legacy password hashes for: $weak"
else case $method in SHA512 | YESCRYPT | yescrypt | "") r password-hash-algorithm pass "strong hashes; ENCRYPT_METHOD ${method:-default}" ;;
  *) r password-hash-algorithm fail "ENCRYPT_METHOD $method" ;; esac; fi

# --- File and directory management ------------------------------------------------------------
bad=$(cat /etc/profile /root/.profile /root/.bashrc /root/.bash_profile 2>/dev/null | grep -E '^[^#]*PATH=' \
  | grep -E 'PATH=("?)(\.|:)|:(\.)?(:|"|$)|:\.(/|:|$)' | head -n 1)
case ":$PATH:" in *:.:* | *::*) bad="current PATH has . or an empty entry" ;; esac
if [ -n "$bad" ]; then r root-path fail "root PATH includes the current directory: $bad"; else r root-path pass "root PATH has no . or empty entry"; fi

n=$(xfind \( -nouser -o -nogroup \) | head -n 50 | wc -l)
if [ "$n" -gt 0 ]; then r unowned-files fail "$n+ files without an existing owner or group, e.g. $(xfind \( -nouser -o -nogroup \) | head -n 3 | tr '\n' ' ')"
else r unowned-files pass "every file has an existing owner and group"; fi

perm passwd-permissions /etc/passwd 022 root
bad=""
for f in /etc/init.d/* /etc/rc.d/init.d/* /etc/rc.local /etc/systemd/system/*.service; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue  # a symlink's own mode is always 777
  if [ "$(owner_of "$f")" != root ] || has_bits "$f" 022; then bad="$bad $f"; fi
done
if [ -n "$bad" ]; then r startup-script-permissions fail "startup scripts not root-owned or writable by others:$bad"
else r startup-script-permissions pass "startup scripts are root's and not writable by others"; fi
perm shadow-permissions /etc/shadow 027 root
perm hosts-permissions /etc/hosts 022 root
if [ -e /etc/inetd.conf ]; then perm inetd-permissions /etc/inetd.conf 077 root
elif [ -e /etc/xinetd.conf ]; then perm inetd-permissions /etc/xinetd.conf 077 root
else r inetd-permissions na "no inetd or xinetd configuration"; fi
if [ -e /etc/rsyslog.conf ]; then perm syslog-conf-permissions /etc/rsyslog.conf 027 root bin sys
elif [ -e /etc/syslog.conf ]; then perm syslog-conf-permissions /etc/syslog.conf 027 root bin sys
elif [ -e /etc/syslog-ng/syslog-ng.conf ]; then perm syslog-conf-permissions /etc/syslog-ng/syslog-ng.conf 027 root bin sys
else r syslog-conf-permissions na "no syslog configuration file"; fi
perm services-permissions /etc/services 022 root bin sys

setid=$(xfind -type f \( -perm -4000 -o -perm -2000 \))
risky=$(printf '%s\n' "$setid" | grep -E '/(dump|restore|lpq|lpr|lprm|lpc|lpd|newgrp|traceroute|traceroute6|at|rcp|rlogin|rsh)$' | tr '\n' ' ')
open=$(printf '%s\n' "$setid" | while read -r f; do [ -n "$f" ] && has_bits "$f" 022 && printf '%s ' "$f"; done)
total=$(printf '%s\n' "$setid" | grep -c .)
if [ -n "$risky$open" ]; then r setid-files fail "set-id programs to review: ${risky}${open:+writable: $open}($total set-id files)"
else r setid-files pass "$total set-id files, none on the list of needless ones, none writable"; fi

bad=""
for entry in root:/root $(human_users); do
  user=${entry%%:*} home=${entry#*:}
  for f in .profile .bashrc .bash_profile .bash_login .cshrc .kshrc .login .exrc .netrc .zshrc; do
    [ -f "$home/$f" ] || continue
    o=$(owner_of "$home/$f")
    if { [ "$o" != "$user" ] && [ "$o" != root ]; } || has_bits "$home/$f" 022; then bad="$bad $home/$f"; fi
  done
done
for f in /etc/profile /etc/bash.bashrc /etc/environment; do
  [ -f "$f" ] && { [ "$(owner_of "$f")" != root ] || has_bits "$f" 022; } && bad="$bad $f"
done
if [ -n "$bad" ]; then r environment-files fail "environment files owned by another user or writable by others:$bad"
else r environment-files pass "environment files are their user's or root's, not writable by others"; fi

n=$(xfind -type f -perm -0002 | head -n 50 | wc -l)
if [ "$n" -gt 0 ]; then r world-writable-files fail "$n+ world-writable files, e.g. $(xfind -type f -perm -0002 | head -n 3 | tr '\n' ' ')"
else r world-writable-files pass "no world-writable regular files"; fi

bad=$(find /dev \( -path /dev/shm -o -path /dev/mqueue -o -path /dev/hugepages \) -prune -o -type f -print 2>/dev/null | head -n 5 | tr '\n' ' ')
if [ -n "$bad" ]; then r dev-regular-files fail "regular files in /dev: $bad"; else r dev-regular-files pass "no regular files in /dev"; fi

bad=""
for f in /etc/hosts.equiv /root/.rhosts $(human_users | sed 's/^[^:]*://; s#$#/.rhosts#'); do
  [ -f "$f" ] || continue
  if grep -qs '^[[:space:]]*+' "$f" || has_bits "$f" 077; then bad="$bad $f"; fi
done
if [ -n "$bad" ]; then r rhosts-trust fail "host trust files with + or open permissions:$bad"
else r rhosts-trust pass "no open .rhosts or hosts.equiv trust"; fi

if grep -Eqis '^[[:space:]]*ALL[[:space:]]*:[[:space:]]*ALL' /etc/hosts.deny; then r access-restriction pass "TCP wrappers deny ALL:ALL by default"
elif grep -qs '^ENABLED=yes' /etc/ufw/ufw.conf || running firewalld; then r access-restriction pass "host firewall (ufw or firewalld) enabled"
elif [ -s /etc/nftables.conf ] && grep -qs 'policy drop' /etc/nftables.conf; then r access-restriction pass "nftables configuration with a drop policy"
else r access-restriction fail "no TCP wrappers default deny and no host firewall configuration found"; fi

if [ -e /etc/hosts.lpd ]; then perm hosts-lpd /etc/hosts.lpd 077 root; else r hosts-lpd pass "no /etc/hosts.lpd"; fi

u=$(login_defs UMASK)
if [ -n "$u" ] && [ $(( 0$u & 022 )) -eq 18 ]; then r umask pass "UMASK $u in /etc/login.defs"
else r umask fail "UMASK ${u:-unset} in /etc/login.defs (022 or stricter expected)"; fi

bad="" missing=""
for entry in $(human_users); do
  user=${entry%%:*} home=${entry#*:}
  if [ ! -d "$home" ]; then
    awk -F: -v u="$user" '$1 == u { print $7 }' /etc/passwd | { read -r sh; login_shell "$sh"; } && missing="$missing $user:$home"
    continue
  fi
  { [ "$(owner_of "$home")" != "$user" ] || has_bits "$home" 002; } && bad="$bad $home"
done
if [ -n "$bad" ]; then r home-permissions fail "home directories not owned by their user or writable by others:$bad"
else r home-permissions pass "home directories are their user's and not writable by others"; fi
if [ -n "$missing" ]; then r home-exists fail "accounts with a login shell and no home directory:$missing"
else r home-exists pass "every login account's home directory exists"; fi

bad=$(find /tmp /var/tmp /dev/shm -xdev -mindepth 1 -maxdepth 1 -name '.*' ! -name '.X*-unix' ! -name '.ICE-unix' ! -name '.font-unix' ! -name '.Test-unix' \
  ! -name '.XIM-unix' 2>/dev/null | head -n 5 | tr '\n' ' ')
if [ -n "$bad" ]; then r hidden-files fail "hidden files in shared temporary directories: $bad"
else r hidden-files pass "no hidden files in /tmp, /var/tmp or /dev/shm"; fi

# --- Service management -----------------------------------------------------------------------
# service CHECK "what" tcp|udp PORT... -- PROCESS...: fail when a port listens or a process runs
service_off() {
  c=$1 what=$2; shift 2; hits=""
  while [ $# -gt 0 ] && [ "$1" != -- ]; do listening "$1" "$2" && hits="$hits $1/$2"; shift 2; done
  [ "${1:-}" = -- ] && shift
  for p in "$@"; do running "$p" && hits="$hits $p"; done
  if [ -n "$hits" ]; then r "$c" fail "$what is on:$hits"; else r "$c" pass "$what is off"; fi
}
service_off finger "finger" tcp 79 -- fingerd in.fingerd
anon=""
grep -Eqis '^[[:space:]]*anonymous_enable[[:space:]]*=[[:space:]]*YES' /etc/vsftpd.conf /etc/vsftpd/vsftpd.conf && anon="$anon vsftpd"
grep -Eqis '^[[:space:]]*<Anonymous' /etc/proftpd/proftpd.conf /etc/proftpd.conf && anon="$anon proftpd"
grep -Eqis '^[[:space:]]*(guest ok|public)[[:space:]]*=[[:space:]]*yes' /etc/samba/smb.conf && anon="$anon samba"
if [ -n "$anon" ]; then r anonymous-shares fail "anonymous access enabled in:$anon"; else r anonymous-shares pass "no anonymous FTP or file share access configured"; fi
service_off r-services "rsh, rlogin or rexec" tcp 512 tcp 513 tcp 514 -- in.rshd in.rlogind in.rexecd rshd rlogind rexecd
bad=""
for f in /etc/crontab /etc/cron.allow /etc/cron.deny /etc/at.allow /etc/at.deny; do
  [ -e "$f" ] && { [ "$(owner_of "$f")" != root ] || has_bits "$f" 026; } && bad="$bad $f($(mode_of "$f"))"
done
for d in /etc/cron.d /etc/cron.daily /etc/cron.hourly /etc/cron.weekly /etc/cron.monthly /var/spool/cron/crontabs /var/spool/cron; do
  [ -d "$d" ] && { [ "$(owner_of "$d")" != root ] || has_bits "$d" 022; } && bad="$bad $d($(mode_of "$d"))"
done
if [ -n "$bad" ]; then r cron-permissions fail "cron or at files not root's or open to others:$bad"
else r cron-permissions pass "cron and at files are root's, 640 or stricter, directories not writable by others"; fi
service_off dos-services "echo, discard, daytime or chargen" tcp 7 udp 7 tcp 9 udp 9 tcp 13 udp 13 tcp 19 udp 19 --
service_off nfs-server "the NFS server" tcp 2049 -- nfsd rpc.nfsd
if [ -s /etc/exports ] && grep -Eq '^[^#]*[[:space:]](\*|[^[:space:]]*\*)' /etc/exports; then r nfs-exports fail "/etc/exports shares with every host (*)"
elif [ -s /etc/exports ] && grep -Eq '^[^#[:space:]]+[[:space:]]*$' /etc/exports; then r nfs-exports fail "/etc/exports has a share without a host list"
elif [ -s /etc/exports ]; then perm nfs-exports /etc/exports 022 root
else r nfs-exports na "no NFS exports"; fi
service_off automount "the automounter" -- automount automountd
service_off rpc-services "rpcbind" tcp 111 udp 111 -- rpcbind portmap
service_off nis "NIS" -- ypserv ypbind ypxfrd rpc.yppasswdd rpc.ypupdated
service_off tftp-talk "tftp or talk" udp 69 udp 517 udp 518 -- in.tftpd tftpd in.talkd in.ntalkd
mta=""
for p in sendmail postfix master exim exim4; do running "$p" && mta="$p"; done
listening tcp 25 && mta="${mta:-a mail server on port 25}"
if [ -z "$mta" ]; then
  for c in mail-server-version mail-queue-restricted mail-relay smtp-expn-vrfy; do r "$c" na "no mail server running"; done
else
  r mail-server-version manual "$mta runs: check its version against the vendor's advisories (package scan)"
  if [ -f /etc/mail/sendmail.cf ]; then
    if grep -Eqs '^O PrivacyOptions=.*restrictqrun' /etc/mail/sendmail.cf; then r mail-queue-restricted pass "sendmail restrictqrun"
    else r mail-queue-restricted fail "sendmail PrivacyOptions lacks restrictqrun"; fi
    if grep -Eqs '^O PrivacyOptions=.*(goaway|noexpn.*novrfy|novrfy.*noexpn)' /etc/mail/sendmail.cf; then r smtp-expn-vrfy pass "sendmail noexpn novrfy"
    else r smtp-expn-vrfy fail "sendmail PrivacyOptions lacks noexpn and novrfy"; fi
  elif [ -f /etc/postfix/main.cf ]; then
    if has_bits /usr/sbin/postsuper 001; then r mail-queue-restricted fail "postsuper is executable by others"; else r mail-queue-restricted pass "postsuper not executable by others"; fi
    if grep -Eqs '^[[:space:]]*disable_vrfy_command[[:space:]]*=[[:space:]]*yes' /etc/postfix/main.cf; then r smtp-expn-vrfy pass "postfix disable_vrfy_command = yes"
    else r smtp-expn-vrfy fail "postfix disable_vrfy_command is not yes"; fi
  else
    r mail-queue-restricted manual "$mta runs; its queue permissions need a manual check"
    r smtp-expn-vrfy manual "$mta runs; EXPN and VRFY need a manual check"
  fi
  r mail-relay manual "$mta runs: check that relaying is limited to your networks"
fi
named_conf=$(ls /etc/named.conf /etc/bind/named.conf /etc/bind/named.conf.options 2>/dev/null)
if running named; then
  r dns-server-version manual "named runs: check its version against ISC's advisories"
  if grep -qs 'allow-transfer' $named_conf; then r dns-zone-transfer pass "allow-transfer set"; else r dns-zone-transfer fail "named has no allow-transfer limit"; fi
  if grep -Eqs 'allow-update[[:space:]]*\{[[:space:]]*any' $named_conf; then r dns-dynamic-update fail "allow-update { any; }"; else r dns-dynamic-update pass "no allow-update for any host"; fi
else
  for c in dns-server-version dns-zone-transfer dns-dynamic-update; do r "$c" na "no DNS server running"; done
fi
service_off telnet "telnet" tcp 23 -- in.telnetd telnetd
ftpd=""
for p in vsftpd proftpd pure-ftpd in.ftpd ftpd; do running "$p" && ftpd="$p"; done
listening tcp 21 && ftpd="${ftpd:-an FTP server on port 21}"
if [ -z "$ftpd" ]; then
  for c in ftp-banner ftp-cleartext ftp-access-control ftpusers-root; do r "$c" na "no FTP server running"; done
else
  if grep -Eqs '^[[:space:]]*(ftpd_banner|ServerIdent)' /etc/vsftpd.conf /etc/vsftpd/vsftpd.conf /etc/proftpd/proftpd.conf; then r ftp-banner pass "$ftpd banner set"
  else r ftp-banner fail "$ftpd shows its default banner"; fi
  r ftp-cleartext fail "$ftpd serves cleartext FTP on port 21"
  lists=$(ls /etc/ftpusers /etc/vsftpd/ftpusers /etc/vsftpd.ftpusers /etc/vsftpd/user_list /etc/vsftpd.user_list 2>/dev/null)
  if [ -n "$lists" ]; then r ftp-access-control pass "access lists: $(echo $lists)"; else r ftp-access-control fail "$ftpd has no ftpusers or user_list"; fi
  if [ -n "$lists" ] && grep -qsx 'root' $lists; then r ftpusers-root pass "root listed in ftpusers"; else r ftpusers-root fail "root not barred in ftpusers"; fi
fi
sh=$(awk -F: '$1 == "ftp" { print $7 }' /etc/passwd)
if [ -z "$sh" ] && ! grep -q '^ftp:' /etc/passwd; then r ftp-account-shell pass "no ftp account"
elif login_shell "$sh"; then r ftp-account-shell fail "the ftp account has the shell $sh"
else r ftp-account-shell pass "the ftp account has no login shell"; fi
snmp_conf=$(ls /etc/snmp/snmpd.conf /etc/snmpd.conf 2>/dev/null)
if running snmpd || listening udp 161; then
  r snmp-running fail "an SNMP agent runs (snmpd or udp/161)"
  if grep -Eqs '^[[:space:]]*(rocommunity|rwcommunity|com2sec)' $snmp_conf; then r snmp-version fail "v1/v2c communities configured"
  else r snmp-version pass "no v1/v2c community"; fi
  if grep -Eqs '^[[:space:]]*(rocommunity|rwcommunity|com2sec[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+)[[:space:]]+(public|private)([[:space:]]|$)' $snmp_conf
  then r snmp-community fail "default community public or private"; else r snmp-community pass "no public or private community"; fi
  if grep -Eqs '^[[:space:]]*(rocommunity|rwcommunity)[[:space:]]+[^[:space:]]+[[:space:]]*$' $snmp_conf
  then r snmp-access fail "a community without a source restriction"; else r snmp-access pass "communities name their sources"; fi
else
  r snmp-running pass "no SNMP agent"
  for c in snmp-version snmp-community snmp-access; do r "$c" na "no SNMP agent"; done
fi
banner=$(sshd_opt Banner)
issue_text=$(cat /etc/issue.net /etc/issue 2>/dev/null | grep -Eiv '^[[:space:]]*$|\\[a-z]|debian|ubuntu|kernel|centos|red hat|fedora|rocky|alma|amazon linux')
if [ -n "$issue_text" ] || { [ -n "$banner" ] && [ "$banner" != none ]; }; then r login-banner pass "a login warning is set"
else r login-banner fail "no login warning (/etc/issue, /etc/issue.net and the sshd Banner show nothing but the distribution)"; fi
if [ -f /etc/sudoers ]; then
  loose=$(grep -Ehs '^[^#%]*NOPASSWD:[[:space:]]*ALL' /etc/sudoers /etc/sudoers.d/* | grep -Ev '^[[:space:]]*root[[:space:]]' | awk '{ print $1 }' | tr '\n' ' ')
  if [ "$(owner_of /etc/sudoers)" != root ] || has_bits /etc/sudoers 022; then r sudoers fail "/etc/sudoers is $(owner_of /etc/sudoers) $(mode_of /etc/sudoers)"
  elif [ -n "$loose" ]; then r sudoers fail "password-less sudo to everything for: $loose"
  else r sudoers pass "/etc/sudoers is root's, not writable by others, no blanket NOPASSWD"; fi
else r sudoers na "sudo is not installed"; fi

# --- Patch and log management -----------------------------------------------------------------
if grep -Eqs 'Unattended-Upgrade[[:space:]]+"1"' /etc/apt/apt.conf.d/*; then r automatic-updates pass "apt unattended-upgrades enabled"
elif grep -Eqs '^[[:space:]]*apply_updates[[:space:]]*=[[:space:]]*yes' /etc/dnf/automatic.conf /etc/yum/yum-cron.conf; then r automatic-updates pass "dnf-automatic or yum-cron applies updates"
else r automatic-updates fail "no automatic security updates (unattended-upgrades, dnf-automatic or yum-cron)"; fi
if running chronyd ntpd systemd-timesyncd openntpd ntpsec; then r time-sync pass "a time synchronisation daemon runs"
else r time-sync fail "no time synchronisation daemon runs (chronyd, ntpd, systemd-timesyncd)"; fi
if running rsyslogd syslog-ng syslogd; then
  if grep -Eqs '^[^#]*auth(priv)?\.' /etc/rsyslog.conf /etc/rsyslog.d/*.conf /etc/syslog.conf /etc/syslog-ng/syslog-ng.conf \
    || grep -qs 'auth' /etc/syslog-ng/syslog-ng.conf; then r logging-daemon pass "a syslog daemon runs and logs authentication"
  else r logging-daemon fail "the syslog daemon has no rule for authentication messages"; fi
elif running systemd-journald && [ -d /var/log/journal ]; then r logging-daemon pass "journald keeps persistent logs"
else r logging-daemon fail "no syslog daemon and no persistent journal"; fi
if [ -d /var/log ]; then
  bad=$(find /var/log -xdev -maxdepth 2 -perm -0002 ! -type l 2>/dev/null | head -n 5 | tr '\n' ' ')
  o=$(owner_of /var/log)
  if [ "$o" != root ]; then r log-permissions fail "/var/log owned by $o"
  elif [ -n "$bad" ]; then r log-permissions fail "world-writable in /var/log: $bad"
  else r log-permissions pass "/var/log is root's; no world-writable log files"; fi
else r log-permissions na "no /var/log"; fi
