"""A host's installed OS packages (dpkg, rpm, apk) as package URLs, from the host scan's inventory lines.

pipeline/scanners/host_packages.sh prints `tollgate_os=<ID>|<VERSION_ID>|` (from /etc/os-release;
`NAMESPACES` renames the few IDs Trivy names otherwise)
and one `tollgate_package[]=<deb|rpm|apk>|<name>|<version>|<arch>|` per installed package. The purl
follows the purl spec's types: `pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64&distro=debian-12`;
an rpm epoch (`1:2.3-4`) becomes the `epoch` qualifier, as the spec asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from packageurl import PackageURL

TYPES = frozenset({"deb", "rpm", "apk"})
# os-release IDs whose purl namespace is another name in Trivy's purls (its OS family names).
NAMESPACES = {"amzn": "amazon", "rhel": "redhat", "ol": "oracle"}


@dataclass(frozen=True)
class InstalledPackage:
    kind: str  # deb | rpm | apk
    name: str
    version: str
    arch: str

    def purl(self, os_id: str, os_version: str) -> str:
        version, qualifiers = self.version, {"arch": self.arch} if self.arch else {}
        if self.kind == "rpm" and ":" in version:
            epoch, version = version.split(":", 1)
            qualifiers["epoch"] = epoch
        if os_version:
            qualifiers["distro"] = f"{os_id}-{os_version}"
        return PackageURL(type=self.kind, namespace=os_id or None, name=self.name, version=version or None,
                          qualifiers=qualifiers).to_string()


def read_line(value: str) -> InstalledPackage | None:
    """`deb|adduser|3.134|all|` -> the package; None for a line that is not one."""
    fields = value.split("|")
    if len(fields) != 5 or fields[-1] or fields[0] not in TYPES or not fields[1] or not fields[2]:
        return None
    return InstalledPackage(*(field.strip() for field in fields[:4]))


def read_os(value: str) -> tuple[str, str]:
    """`debian|12|` -> ("debian", "12")."""
    os_id, _, rest = value.partition("|")
    os_id = os_id.strip().lower()
    return NAMESPACES.get(os_id, os_id), rest.split("|", 1)[0].strip()
