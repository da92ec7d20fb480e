#!/usr/bin/env bash
# release.sh VERSION: builds dist/fleet-VERSION-linux-x86_64.tar.gz and dist/fleet-VERSION-linux-x86_64.tar.gz.sha256,
# a fleet that runs on a Linux x86_64 machine with nothing installed but glibc (Debian 12, Ubuntu 22.04 and later).
#   usage: scripts/release.sh VERSION        e.g. scripts/release.sh 0.1.0 (VERSION must be FleetVersion.current)
# Needs: Swift 6 (its static runtime, usr/lib/swift_static), Debian's libssh2-1-dev, libssl-dev and zlib1g-dev
# (they ship libssh2.a, libssl.a, libcrypto.a and libz.a), python3, git. Builds in .build-release/.
#
# How the binary is linked (checked at the end: ldd must name glibc's and gcc's libraries only):
# - `--static-swift-stdlib`: the Swift runtime, Dispatch and Foundation come from the toolchain's static
#   libraries (usr/lib/swift_static/linux), not from .so files of the toolchain folder.
# - libssh2, OpenSSL and zlib statically: SwiftPM takes CLibSSH2's link flags from pkg-config, so PKG_CONFIG_PATH
#   names a folder with a libssh2.pc of our own whose libdir holds only the four .a files (symbolic links to
#   Debian's) and whose Libs are `-lssh2 -lssl -lcrypto -lz`. That -L comes first, so every -l of those four
#   (CFleetTLS's -lssl -lcrypto too) finds a .a there; nothing else changes in the package.
# - FoundationNetworking (libcurl, GnuTLS, Kerberos, LDAP) is not linked: HTTPPost posts over its own socket,
#   with TLS through the OpenSSL above (Sources/CFleetTLS).
# The binary is stripped; the tarball holds bin/fleet, the man page, shell completions, the host scripts (the
# copy built into the binary, to read or customise), the example inventory, the deploy workflow and the
# monitoring files (what `fleet init` writes), README.md. Tar and gzip are reproducible (last commit's time).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
version=$1
if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
  echo "release: '$version' is not a version like 1.2.3 (give it without the tag's v)" >&2
  exit 2
fi
current=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/FleetCore/FleetCore.swift)
if [[ $version != "$current" ]]; then
  echo "release: the sources say fleet $current (Sources/FleetCore/FleetCore.swift), not $version;" \
    "set FleetVersion.current to \"$version\", commit, then tag v$version" >&2
  exit 2
fi

multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$multiarch
for lib in ssh2 ssl crypto z; do
  if [[ ! -f $libdir/lib$lib.a ]]; then
    echo "release: $libdir/lib$lib.a is missing; apt-get install libssh2-1-dev libssl-dev zlib1g-dev" >&2
    exit 2
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
static="$work/static"
mkdir -p "$static"
for lib in ssh2 ssl crypto z; do ln -s "$libdir/lib$lib.a" "$static/lib$lib.a"; done
ssh2_version=$(pkg-config --modversion libssh2 2>/dev/null || echo unknown)
cat >"$static/libssh2.pc" <<PC
libdir=$static
Name: libssh2
Description: libssh2 and its dependencies, linked statically into fleet
Version: $ssh2_version
Libs: -L\${libdir} -lssh2 -lssl -lcrypto -lz
Cflags: -I/usr/include
PC

echo "== swift build -c release --static-swift-stdlib (libssh2, OpenSSL, zlib static)"
PKG_CONFIG_PATH="$static" nice -n 10 swift build -c release --product fleet --static-swift-stdlib \
  --scratch-path .build-release
built="$(PKG_CONFIG_PATH="$static" swift build -c release --static-swift-stdlib --scratch-path .build-release \
  --show-bin-path)/fleet"

echo "== linked libraries (glibc's and gcc's only)"
ldd "$built" | sed 's/^/    /'
allowed='^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libgcc_s\.so\.1|libstdc\+\+\.so\.6|/lib64/ld-linux-x86-64\.so\.2)$'
others=$(ldd "$built" | awk '{print $1}' | grep -v -E "$allowed" || true)
if [[ -n $others ]]; then
  echo "release: the binary needs libraries outside glibc and gcc: $others" >&2
  exit 1
fi

name="fleet-$version-linux-x86_64"
stage="$work/$name"
mkdir -p "$stage/bin" "$stage/share/man/man1" "$stage/share/bash-completion/completions" \
  "$stage/share/zsh/site-functions" "$stage/share/fish/vendor_completions.d" "$stage/inventory" \
  "$stage/docs/examples" "$stage/playbooks"
strip -o "$stage/bin/fleet" "$built"
fleet="$stage/bin/fleet"
said=$("$fleet" --version)
if [[ $said != "fleet $version "* ]]; then
  echo "release: the binary says '$said', not fleet $version" >&2
  exit 1
fi
echo "== $said"

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
python3 scripts/release/manpage.py "$fleet" >"$stage/share/man/man1/fleet.1"
"$fleet" --generate-completion-script bash >"$stage/share/bash-completion/completions/fleet"
"$fleet" --generate-completion-script zsh >"$stage/share/zsh/site-functions/_fleet"
"$fleet" --generate-completion-script fish >"$stage/share/fish/vendor_completions.d/fleet.fish"
install -m 0755 playbooks/*.sh "$stage/playbooks/"
install -m 0644 inventory/production.example.yml inventory/production.example.env "$stage/inventory/"
install -m 0644 docs/examples/deploy.yml "$stage/docs/examples/"
cp -R docs/monitoring "$stage/docs/monitoring"
install -m 0644 README.md "$stage/"

mkdir -p dist
tarball="dist/$name.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -C "$work" -cf - "$name" \
  | gzip -n -9 >"$tarball"
(cd dist && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "== $tarball ($(du -h "$tarball" | cut -f1)), bin/fleet stripped: $(stat -c %s "$fleet") bytes"
cat "$tarball.sha256"
