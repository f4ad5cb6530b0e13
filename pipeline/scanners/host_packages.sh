# Tollgate's read-only inventory of installed OS packages (POSIX sh): dpkg, rpm or apk.
# One line per installed package, `tollgate_package[]=<deb|rpm|apk>|<name>|<version>|<arch>|`,
# and `tollgate_os=<os-release ID>|<VERSION_ID>|` for the purls' namespace and distro. It reads
# the package databases (`rpm -q` for rpm's, which is binary) and changes nothing.
export LC_ALL=C
[ -r /etc/os-release ] && . /etc/os-release
printf 'tollgate_os=%s|%s|\n' "${ID:-unknown}" "${VERSION_ID:-}"
if [ -r /var/lib/dpkg/status ]; then
  awk 'function flush() { if (status ~ / installed$/ && name != "") print "tollgate_package[]=deb|" name "|" version "|" arch "|"
                          name = version = arch = status = "" }
       /^Package: / { name = $2 } /^Version: / { version = $2 } /^Architecture: / { arch = $2 }
       /^Status: / { status = $0 } /^$/ { flush() } END { flush() }' /var/lib/dpkg/status
fi
if command -v rpm >/dev/null 2>&1 && [ -d /var/lib/rpm ]; then
  rpm -qa --qf 'tollgate_package[]=rpm|%{NAME}|%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}|%{ARCH}|\n' 2>/dev/null
fi
if [ -r /lib/apk/db/installed ]; then
  awk -F: '/^P:/ { name = $2 } /^V:/ { version = $2 } /^A:/ { arch = $2 }
           /^$/ { if (name != "") print "tollgate_package[]=apk|" name "|" version "|" arch "|"; name = version = arch = "" }
           END { if (name != "") print "tollgate_package[]=apk|" name "|" version "|" arch "|" }' /lib/apk/db/installed
fi
exit 0
