#!/bin/sh
# Builds OpenWrt's uci(1) and its libubox dependency from source into a
# scratch prefix, for the differential test (make ucibridge-libuci).
#
#   sh ucibridge/testdata/build-uci.sh SRC_DIR PREFIX
#
# SRC_DIR holds the libubox and uci source trees. Needs cmake, a C
# compiler and libjson-c-dev. Nothing is installed outside PREFIX.
set -eu

src=$(cd "$1" && pwd)
mkdir -p "$2"
prefix=$(cd "$2" && pwd)
if [ -x "$prefix/bin/uci" ]; then
	exit 0
fi

build() { # source tree name, cmake options...
	d=$1
	shift
	mkdir -p "$prefix/build/$d"
	(cd "$prefix/build/$d" &&
		cmake -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" \
			-DCMAKE_C_FLAGS="-I$prefix/include" -DCMAKE_EXE_LINKER_FLAGS="-L$prefix/lib" \
			-DCMAKE_SHARED_LINKER_FLAGS="-L$prefix/lib" "$@" "$src/$d" >"$prefix/$d.log" 2>&1 &&
		make -j2 >>"$prefix/$d.log" 2>&1 && make install >>"$prefix/$d.log" 2>&1) ||
		{ echo "build $d failed, see $prefix/$d.log" >&2; exit 1; }
}

build libubox -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF
build uci -DBUILD_LUA=OFF
echo "built $prefix/bin/uci"
