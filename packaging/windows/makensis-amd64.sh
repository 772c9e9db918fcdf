#!/bin/sh
# CPACK_NSIS_EXECUTABLE for the Windows packages: makensis building a
# 64-bit Unicode installer. CPack's default is a 32-bit installer, which a
# 64-bit-only Wine (no wine32) cannot even start; Debian's nsis ships the
# amd64-unicode stubs and plugins.
exec makensis "-XTarget amd64-unicode" "$@"
